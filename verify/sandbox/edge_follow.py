"""The edge follows the support bucket's asset-set pointer (called in the AWS process)."""

from __future__ import annotations

from pathlib import Path

from verify.sandbox.lock import locked
from verify.sandbox.state import load_state, save_state


def follow(dir: Path, bad_live: bool) -> None:
    """Serve the bad release's broken HTML while its pointer is live; the release's otherwise."""
    from verify.sandbox.parts.edge import NGINX_FAULTS, reload_conf

    # The sandbox lock: break/heal rewrite the same nginx.conf and state file.
    with locked(Path(dir).absolute()):
        state = load_state(Path(dir).absolute())
        if state is None or "edge" not in state.parts:
            return
        part = state.parts["edge"]
        if bool(part.data.get("deploy_bad")) == bad_live:
            return
        part.data["deploy_bad"] = bad_live
        reload_conf(part.data, frozenset(part.faults) & NGINX_FAULTS)
        save_state(state)
