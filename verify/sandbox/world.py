"""The sandbox platform's live model: active faults, and moto reconciled to match them."""

from __future__ import annotations

import random
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from verify.sandbox import spec
from verify.sandbox.ecs_states import STOPPED, StoppedRecipe
from verify.sandbox.seed import register_task_definition
from verify.sandbox.taskmeta import DeploymentRecord, TaskMeta

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from verify.sandbox.awsext import AwsExtension
    from verify.sandbox.motoapp import Clients
    from verify.sandbox.seed import Inventory

API = spec.API_SERVICE
UNDER_REPLICATED = "ecs-under-replicated"


class World:
    """Active faults plus everything moto lacks; `reconcile` makes moto match the faults."""

    def __init__(
        self,
        clients: Clients,
        inv: Inventory,
        release: str,
        previous_release: str,
        secret_values: Mapping[str, str],
        latency_ms: int,
    ) -> None:
        self.clients = clients
        self.inv = inv
        self.lock = threading.RLock()
        self.active: frozenset[str] = frozenset()
        self.latency_ms = latency_ms
        self.secret_values = dict(secret_values)
        self.seeded_at = time.time()
        self.tasks: dict[str, TaskMeta] = {}
        self._td_images: dict[str, str] = {}
        for family, revisions in inv.task_definitions.items():
            self._td_images[revisions[1]] = spec.image(family, previous_release)
            self._td_images[revisions[2]] = spec.image(family, release)
        self._release = release
        self._deployments: dict[tuple[str, str], DeploymentRecord] = {}
        for family in spec.SERVICES:
            self.deployment(family, inv.task_definitions[family][2], self.seeded_at - 90)
        self._service_td = {f: inv.task_definitions[f][2] for f in spec.SERVICES}
        self._target_td = dict(self._service_td)  # what the service's tasks run (deploys move it)
        from verify.sandbox.deploys import Deploys

        self.deploys = Deploys(self, None)  # server.py gives it the sandbox dir
        self._failed_td: str | None = None
        self._registered: set[str] = set()  # AZs whose target is registered
        self._alarm_firing = False
        self._secret_present = True
        self._steady_at = dict.fromkeys(spec.SERVICES, self.seeded_at)
        self._affected_services: set[str] = set()  # services a fault keeps from a steady state
        # The seed's tasks started a minute before the service reached its steady state.
        self._launch_backdate_s = 60.0
        self.extensions: dict[str, AwsExtension] = {}
        self.ext_active: dict[str, frozenset[str]] = {}

    # --- extensions (other parts' AWS side) ------------------------------------------------------

    def add_extension(self, extension: AwsExtension, config: dict[str, Any]) -> None:
        """Load another part's AWS side; `config` is what that part recorded when it started."""
        with self.lock:
            extension.seed(self, config)
            self.extensions[extension.name] = extension
            self.ext_active[extension.name] = frozenset()

    def set_owner_faults(self, owner: str, active: Iterable[str]) -> None:
        """Make `active` the faults of `owner` (`aws` or an extension's part)."""
        if owner == "aws":
            self.set_faults(active, {})
            return
        extension = self.extensions.get(owner)
        if extension is None:
            raise ValueError(f"no AWS extension {owner!r} in this sandbox")
        wanted = frozenset(active)
        unknown = wanted - extension.faults
        if unknown:
            raise ValueError(f"not faults of {owner}: {', '.join(sorted(unknown))}")
        with self.lock:
            extension.reconcile(self, wanted)
            self.ext_active[owner] = wanted

    def faults_by_owner(self) -> dict[str, list[str]]:
        with self.lock:
            owned = {"aws": sorted(self.active)}
            owned.update({name: sorted(active) for name, active in self.ext_active.items()})
            return owned

    def put_secrets(self, values: Mapping[str, str]) -> None:
        """Create or update secrets (parts push the values they generated, e.g. a Redis AUTH)."""
        from botocore.exceptions import ClientError

        sm = self.clients.secretsmanager
        with self.lock:
            self.secret_values.update(values)
            for name, value in values.items():
                if name == spec.REDIS_AUTH_SECRET and not self._secret_present:
                    continue  # secret-missing is active: heal recreates it with this value
                try:
                    sm.put_secret_value(SecretId=name, SecretString=value)
                except ClientError:
                    sm.create_secret(
                        Name=name, SecretString=value, Description="seeded by verify sandbox"
                    )

    def tick(self) -> None:
        self.deploys.tick()
        for extension in list(self.extensions.values()):
            extension.tick(self)

    # --- fault state -------------------------------------------------------------------------

    def set_faults(self, active: Iterable[str], secret_values: Mapping[str, str]) -> None:
        """Make `active` the set of AWS faults and reconcile moto to it."""
        wanted = frozenset(active)
        from verify.sandbox.parts.aws import FAULT_NAMES

        unknown = wanted - FAULT_NAMES
        if unknown:
            raise ValueError(f"not AWS faults: {', '.join(sorted(unknown))}")
        with self.lock:
            self.secret_values.update(secret_values)
            self.active = wanted
            self.reconcile()

    def reconcile(self) -> None:
        """Bring moto to the healthy seed plus the effects of the active faults."""
        with self.lock:
            if "ecs-rollout-failed" in self.active and self._failed_td is None:
                self._failed_td = register_task_definition(
                    self.clients, API, self._release, marker=str(uuid.uuid4())
                )
                self._td_images[self._failed_td] = spec.image(API, self._release)
            for service in spec.SERVICES:
                self._reconcile_service(service)
                self._reconcile_tasks(service)
            if "ecs-rollout-failed" not in self.active and self._failed_td is not None:
                self.clients.ecs.deregister_task_definition(taskDefinition=self._failed_td)
                self._failed_td = None
            for fault, recipe in STOPPED.items():
                self._reconcile_stopped(fault, recipe)
            for meta in self.tasks.values():
                if not meta.running and meta.owner not in self.active:
                    meta.forgotten = True
            self._reconcile_targets()
            self._reconcile_alarm()
            self._reconcile_secret()
            self._launch_backdate_s = 0.0
            affected = {s for s in spec.SERVICES if self._affected(s)}
            for service in self._affected_services - affected:
                self._steady_at[service] = time.time()  # healed: ECS reports a new steady state
            self._affected_services = affected

    def _affected(self, service: str) -> bool:
        return service == API and any(
            f.startswith("ecs-") and f != "ecs-rolled" for f in self.active
        )

    def tasks_td(self, service: str) -> str:
        """The task definition the service's tasks should run."""
        if service == API and "ecs-wrong-image" in self.active:
            return self.inv.task_definitions[service][1]
        return self._target_td[service]

    @property
    def release(self) -> str:
        """The release the sandbox was seeded with."""
        return self._release

    def image_of(self, td: str) -> str:
        """The release container's image of a task definition the sandbox registered."""
        return self._td_images[td]

    def add_revision(self, td: str, image: str) -> None:
        """A task definition a deploy registered."""
        self._td_images[td] = image

    def set_target(self, service: str, td: str) -> None:
        """Run `td`'s tasks for `service` from the next reconcile on (a deploy or a rollback)."""
        with self.lock:
            if self._target_td[service] != td:
                self.deployment(service, td)
                self._steady_at[service] = time.time()
            self._target_td[service] = td

    def _reconcile_service(self, service: str) -> None:
        wanted = self.tasks_td(service)
        if service == API and "ecs-rollout-failed" in self.active and self._failed_td:
            wanted = self._failed_td
        pending = self.deploys.pending.get(service)
        if pending is not None:
            wanted = pending.td
        if self._service_td[service] != wanted:
            self.clients.ecs.update_service(
                cluster=spec.CLUSTER, service=service, taskDefinition=wanted
            )
            self._service_td[service] = wanted

    def _slots(self, service: str) -> list[str]:
        slots = list(spec.AZS)
        if service == API and "ecs-single-az" in self.active:
            slots = [spec.AZS[0]] * len(spec.AZS)
        if service == API and UNDER_REPLICATED in self.active:
            slots = slots[:1]
        return slots

    def _reconcile_tasks(self, service: str) -> None:
        td = self.tasks_td(service)
        pool = sorted(self.running_tasks(service), key=lambda t: t.started_at)
        missing: list[str] = []
        for az in self._slots(service):
            match = next((t for t in pool if t.az == az and t.task_definition == td), None)
            if match is None:
                missing.append(az)
            else:
                pool.remove(match)
        for az in missing:
            self._launch(service, td, az)
        dropped = service == API and UNDER_REPLICATED in self.active
        deployment = self.deployment(service, td).id
        for meta in pool:
            # Surplus tasks are stopped by the scheduler (exit 0); only the one the
            # under-replicated fault removes stays listed, the rest ECS has long forgotten.
            self._stop(
                meta,
                code="ServiceSchedulerInitiated",
                reason=f"Scaling activity initiated by (deployment {deployment})",
                exit_code=0,
                owner=UNDER_REPLICATED if dropped and meta.task_definition == td else None,
            )

    def _reconcile_stopped(self, fault: str, recipe: StoppedRecipe) -> None:
        listed = [t for t in self.tasks.values() if t.owner == fault and not t.forgotten]
        if fault not in self.active or listed:
            return
        now = time.time()
        td = self.inv.task_definitions[API][1] if recipe.previous_release else self.tasks_td(API)
        reason = recipe.reason.format(deployment=self.deployment(API, self.tasks_td(API)).id)
        for i in range(recipe.count):
            meta = self._launch(API, td, spec.AZS[i % len(spec.AZS)])
            stopped_at = now - 45 - 100 * i
            meta.started_at = stopped_at - 35
            self._stop(
                meta,
                code=recipe.code,
                reason=reason,
                exit_code=recipe.exit_code,
                owner=fault,
                at=stopped_at,
            )

    def _reconcile_targets(self) -> None:
        wanted = set(spec.AZS)
        if "target-single-az" in self.active:
            wanted.discard(spec.AZS[1])
        elbv2, tg = self.clients.elbv2, self.inv.target_group_arn
        add = [
            {"Id": spec.TARGET_IPS[az], "Port": spec.API_PORT} for az in wanted - self._registered
        ]
        drop = [
            {"Id": spec.TARGET_IPS[az], "Port": spec.API_PORT} for az in self._registered - wanted
        ]
        if add:
            elbv2.register_targets(TargetGroupArn=tg, Targets=add)  # type: ignore[arg-type]
        if drop:
            elbv2.deregister_targets(TargetGroupArn=tg, Targets=drop)  # type: ignore[arg-type]
        self._registered = wanted

    def _reconcile_alarm(self) -> None:
        firing = "alarm-firing" in self.active
        if firing == self._alarm_firing:
            return
        reason = (
            "Threshold Crossed: 2 out of the last 3 datapoints [57.0, 41.0] were greater than "
            "the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition)."
            if firing
            else "Threshold Crossed: no datapoints were greater than the threshold (10.0)."
        )
        self.clients.cloudwatch.set_alarm_state(
            AlarmName=spec.ALARM_5XX, StateValue="ALARM" if firing else "OK", StateReason=reason
        )
        self._alarm_firing = firing

    def _reconcile_secret(self) -> None:
        present = "secret-missing" not in self.active
        if present == self._secret_present:
            return
        sm = self.clients.secretsmanager
        if present:
            sm.create_secret(
                Name=spec.REDIS_AUTH_SECRET,
                SecretString=self.secret_values[spec.REDIS_AUTH_SECRET],
                Description="seeded by verify sandbox",
            )
        else:
            sm.delete_secret(SecretId=spec.REDIS_AUTH_SECRET, ForceDeleteWithoutRecovery=True)
        self._secret_present = present

    def _launch(self, service: str, td: str, az: str) -> TaskMeta:
        response = self.clients.ecs.run_task(
            cluster=spec.CLUSTER,
            taskDefinition=td,
            group=f"service:{service}",
            startedBy=self.deployment(service, td).id,
            launchType="FARGATE",
            platformVersion=spec.PLATFORM_VERSION,
            count=1,
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": [self.inv.subnets[az]],
                    "securityGroups": [self.inv.security_group_id],
                    "assignPublicIp": "DISABLED",
                }
            },
        )
        arn = response["tasks"][0]["taskArn"]
        started_at = time.time() - self._launch_backdate_s
        meta = TaskMeta(arn, service, td, self._td_images[td], az, started_at)
        self.tasks[arn] = meta
        return meta

    def _stop(
        self,
        meta: TaskMeta,
        *,
        code: str,
        reason: str,
        exit_code: int | None,
        owner: str | None,
        at: float | None = None,
    ) -> None:
        self.clients.ecs.stop_task(cluster=spec.CLUSTER, task=meta.arn, reason=reason)
        meta.stopped_at = time.time() if at is None else at
        meta.stop_code, meta.stopped_reason = code, reason
        meta.exit_code, meta.owner = exit_code, owner
        meta.forgotten = owner is None

    # --- what the overlay reads --------------------------------------------------------------

    def deployment(
        self, service: str, td: str, created_at: float | None = None
    ) -> DeploymentRecord:
        """The deployment of `td` to `service`, created on first use."""
        with self.lock:
            key = (service, td)
            if key not in self._deployments:
                digits = "".join(random.choices("0123456789", k=19))
                self._deployments[key] = DeploymentRecord(
                    f"ecs-svc/{digits}", time.time() if created_at is None else created_at
                )
            return self._deployments[key]

    def task(self, arn: str) -> TaskMeta | None:
        """What the world knows of a task, if the sandbox launched it."""
        with self.lock:
            return self.tasks.get(arn)

    def running_tasks(self, service: str, td: str | None = None) -> list[TaskMeta]:
        """RUNNING tasks of `service` (optionally of one task definition)."""
        with self.lock:
            return [
                t
                for t in self.tasks.values()
                if t.service == service and t.running and td in (None, t.task_definition)
            ]

    def task_health(self, meta: TaskMeta) -> str:
        """HEALTHY, UNHEALTHY (the task-unhealthy fault's victim) or UNKNOWN once stopped."""
        if not meta.running:
            return "UNKNOWN"
        with self.lock:
            if meta.service == API and "ecs-task-unhealthy" in self.active:
                victim = min(self.running_tasks(API), key=lambda t: t.started_at)
                if victim.arn == meta.arn:
                    return "UNHEALTHY"
        return "HEALTHY"

    def target_health(self, ip: str) -> tuple[str, str | None, str | None]:
        """(State, Reason, Description) of the target at `ip`."""
        if "target-unhealthy" in self.active and ip == spec.TARGET_IPS[spec.AZS[0]]:
            return "unhealthy", "Target.FailedHealthChecks", "Health checks failed"
        return "healthy", None, None

    def service_td(self, service: str) -> str:
        """The task definition the service is set to."""
        with self.lock:
            return self._service_td[service]

    @property
    def failed_td(self) -> str | None:
        """The revision whose rollout failed, while ecs-rollout-failed is active."""
        return self._failed_td

    def steady_at(self, service: str) -> float:
        """When the service last reached a steady state."""
        with self.lock:
            return self._steady_at[service]
