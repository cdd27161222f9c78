"""Deploys in the sandbox's AWS process: new task-definition revisions, convergence, rollbacks.

`verify sandbox deploy --release R` registers a revision of every service's family running R and
points the services at it. Until `converge_after` seconds have passed ECS reports the new
deployment IN_PROGRESS beside the old one (no task of R runs yet); then R's tasks replace the old
ones. A client's UpdateService (the rollback hook) switches the service's tasks at once. The demo
API follows app-api: it reports the release its tasks run, and answers 5xx for a `--bad` release.
Each surface's asset-set pointer (`current-release.json` in its versioned bucket) names R.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify.sandbox import spec

if TYPE_CHECKING:
    from verify.sandbox.awsext import OverlayRequest
    from verify.sandbox.world import World

API_RELEASE_FILE = "api-release.json"  # read by the demo API on every request
POINTER_KEY = "current-release.json"  # the asset-set pointer of the layout contract (README)


@dataclass(frozen=True)
class Pending:
    """A deployment that has not converged yet."""

    td: str
    converge_at: float


class Deploys:
    """What the sandbox's deploys changed, and how to undo them (`reset`)."""

    def __init__(self, world: World, dir: Path | None) -> None:
        self.world = world
        self.dir = dir
        self.bad: set[str] = set()
        self.pending: dict[str, Pending] = {}
        self.registered: list[str] = []

    def release_of(self, td: str) -> str:
        """The release a task definition runs (its image tag)."""
        return self.world.image_of(td).rsplit(":", 1)[-1]

    def deploy(self, release: str, bad: bool, converge_after: float) -> dict[str, Any]:
        """Register R for every service and start its deployment; the new revisions' ARNs."""
        world = self.world
        with world.lock:
            if bad:
                self.bad.add(release)
            else:
                self.bad.discard(release)
            from verify.sandbox.seed import register_task_definition

            revisions: dict[str, str] = {}
            for service in spec.SERVICES:
                td = register_task_definition(world.clients, service, release)
                world.add_revision(td, spec.image(service, release))
                self.registered.append(td)
                revisions[service] = td
                if converge_after > 0:
                    world.deployment(service, td)
                    self.pending[service] = Pending(td, time.time() + converge_after)
                    world.clients.ecs.update_service(
                        cluster=spec.CLUSTER, service=service, taskDefinition=td
                    )
                else:
                    self._switch(service, td)
            self._point_assets(release)
            world.reconcile()
            converge_at = max((p.converge_at for p in self.pending.values()), default=time.time())
            return {
                "release": release,
                "bad": bad,
                "revisions": revisions,
                "converge_at": converge_at,
            }

    def on_update_service(self, request: OverlayRequest) -> None:
        """A client pointed a service at a task definition (a rollback): its tasks follow."""
        body = request.json()
        service = str(body.get("service", "")).rsplit("/", 1)[-1]
        wanted = body.get("taskDefinition")
        if service not in spec.SERVICES or not wanted:
            return
        arn = self.world.clients.ecs.describe_task_definition(taskDefinition=str(wanted))[
            "taskDefinition"
        ]["taskDefinitionArn"]
        with self.world.lock:
            self._switch(service, arn)
            self.world.reconcile()

    def tick(self) -> None:
        """Converge the deployments whose time has come."""
        now = time.time()
        with self.world.lock:
            due = [s for s, p in self.pending.items() if p.converge_at <= now]
            for service in due:
                self._switch(service, self.pending[service].td)
            if due:
                self.world.reconcile()

    def reset(self) -> dict[str, Any]:
        """Back to the seed: services on revision 2, deployed revisions deregistered."""
        world = self.world
        with world.lock:
            for service in spec.SERVICES:
                self._switch(service, world.inv.task_definitions[service][2])
            world.reconcile()
            for td in self.registered:
                world.clients.ecs.deregister_task_definition(taskDefinition=td)
            dropped, self.registered = self.registered, []
            self.bad.clear()
            self._point_assets(world.release)
            return {"deregistered": dropped}

    def _switch(self, service: str, td: str) -> None:
        self.pending.pop(service, None)
        self.world.set_target(service, td)
        if service == spec.API_SERVICE:
            self.write_api_release()

    def write_api_release(self) -> None:
        """Tell the demo API which release app-api's tasks run now, and whether it is bad."""
        if self.dir is None:
            return
        release = self.release_of(self.world.tasks_td(spec.API_SERVICE))
        path = self.dir / API_RELEASE_FILE
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"release": release, "bad": release in self.bad}))
        os.replace(tmp, path)

    def _point_assets(self, release: str) -> None:
        """Write each surface's asset-set pointer (when the edge part's buckets exist)."""
        from botocore.exceptions import ClientError

        s3 = self.world.clients.client("s3")
        try:
            buckets = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
        except ClientError:
            return
        for bucket in buckets:
            if "-static-assets-" in bucket:
                put_pointer(s3, bucket, release)
        self.follow_assets()

    def on_put_object(self, request: OverlayRequest) -> None:
        """A client wrote an asset-set pointer (the S3 rollback hook): the edge follows it."""
        path = request.path.split("?", 1)[0]
        if request.method == "PUT" and path.endswith(f"/{POINTER_KEY}"):
            self.follow_assets()

    def follow_assets(self) -> None:
        """The support edge serves what its bucket's pointer names: a bad release's HTML
        references chunks the origin does not have (the asset-missing state), a good one's not."""
        from verify.sandbox.edge_aws import bucket_of
        from verify.sandbox.parts.frontends import SURFACE

        if self.dir is None:
            return
        s3 = self.world.clients.client("s3")
        try:
            body = s3.get_object(Bucket=bucket_of(SURFACE), Key=POINTER_KEY)["Body"].read()
        except Exception:  # no edge part in this sandbox: nothing to follow
            return
        live = str(json.loads(body).get("release"))
        from verify.sandbox.edge_follow import follow

        follow(self.dir, live in self.bad)

    def state(self) -> dict[str, Any]:
        with self.world.lock:
            return {
                "services": {s: self.world.service_td(s) for s in spec.SERVICES},
                "pending": {s: p.td for s, p in self.pending.items()},
                "bad": sorted(self.bad),
                "registered": list(self.registered),
            }


def put_pointer(s3: Any, bucket: str, release: str) -> None:
    """Make `release` the bucket's live asset set (a new version of the pointer object)."""
    s3.put_object(
        Bucket=bucket,
        Key=POINTER_KEY,
        Body=json.dumps({"release": release}).encode(),
        ContentType="application/json",
        CacheControl="no-store",
    )


def read_api_release(dir: Path) -> tuple[str | None, bool]:
    """(release app-api runs, whether it is a bad release); (None, False) before any deploy."""
    try:
        data = json.loads((dir / API_RELEASE_FILE).read_text())
        return str(data["release"]), bool(data.get("bad"))
    except (OSError, ValueError, KeyError, TypeError):
        return None, False
