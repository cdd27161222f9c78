"""Names and shapes of the `local` platform the sandbox stands up (mirrors the platform plan)."""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
AZS = ("eu-west-1a", "eu-west-1b")
PREFIX = "mobilytics-local"
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # moto's dummy credentials, not a secret

DEFAULT_RELEASE = "2026.11.26-1"
DEFAULT_PREVIOUS_RELEASE = "2026.11.25-3"

CLUSTER = PREFIX
API_SERVICE = "app-api"
WORKER_SERVICE = "bullmq-workers"
SERVICES = (API_SERVICE, WORKER_SERVICE)
DESIRED_COUNT = 2
PLATFORM_VERSION = "1.4.0"
# (task cpu, task memory) in the units ECS reports them.
TASK_SIZES = {API_SERVICE: ("512", "1024"), WORKER_SERVICE: ("256", "512")}
API_PORT = 3000

LOAD_BALANCER = f"{PREFIX}-api"
TARGET_GROUP = f"{PREFIX}-app-api"
VPC_CIDR = "10.40.0.0/16"
SUBNET_CIDRS = {"eu-west-1a": "10.40.1.0/24", "eu-west-1b": "10.40.2.0/24"}
TARGET_IPS = {"eu-west-1a": "10.40.1.10", "eu-west-1b": "10.40.2.10"}

SECRET_NAMES: tuple[str, ...] = (
    "/mobilytics/local/app-api/database-url",
    "/mobilytics/local/app-api/redis-auth",
    "/mobilytics/local/app-api/jwt-signing-key",
    "/mobilytics/local/bullmq-workers/redis-auth",
)
REDIS_AUTH_SECRET = "/mobilytics/local/app-api/redis-auth"


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm of the plan."""

    name: str
    namespace: str
    metric: str
    statistic: str
    threshold: float
    comparison: str
    dimensions: tuple[tuple[str, str], ...]
    initial_state: str = "OK"


ALARM_5XX = f"{PREFIX}-api-5xx"
ALARMS = (
    AlarmSpec(
        ALARM_5XX,
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        "Sum",
        10.0,
        "GreaterThanThreshold",
        (("TargetGroup", TARGET_GROUP),),
    ),
    AlarmSpec(
        f"{PREFIX}-api-p99-latency",
        "AWS/ApplicationELB",
        "TargetResponseTime",
        "p99",
        1.0,
        "GreaterThanThreshold",
        (("TargetGroup", TARGET_GROUP),),
    ),
    AlarmSpec(
        f"{PREFIX}-ecs-unhealthy-tasks",
        "ECS/ContainerInsights",
        "RunningTaskCount",
        "Minimum",
        2.0,
        "LessThanThreshold",
        (("ClusterName", CLUSTER), ("ServiceName", API_SERVICE)),
    ),
    AlarmSpec(
        f"{PREFIX}-queue-backlog",
        "Mobilytics/BullMQ",
        "OldestWaitSeconds",
        "Maximum",
        120.0,
        "GreaterThanThreshold",
        (("Environment", "local"),),
    ),
    # A fresh replica has published no datapoints yet: AWS shows INSUFFICIENT_DATA.
    AlarmSpec(
        f"{PREFIX}-rds-replica-lag",
        "AWS/RDS",
        "ReplicaLag",
        "Maximum",
        30.0,
        "GreaterThanThreshold",
        (("DBInstanceIdentifier", f"{PREFIX}-replica-1"),),
        initial_state="INSUFFICIENT_DATA",
    ),
)


def image(family: str, release: str) -> str:
    """The ECR image URI of `family` at `release`."""
    return f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/{family}:{release}"


# --- database: RDS PostgreSQL primary + read replica (the postgres part) ---------------------
RDS_PRIMARY = PREFIX
RDS_REPLICA = f"{PREFIX}-replica-1"  # the replica-lag alarm above names it
DATABASE_URL_SECRET = "/mobilytics/local/app-api/database-url"  # the app's; verify never reads it
# The monitoring role's URLs, JSON {"primary": url, "<replica>": url}: what the SQL checks use.
DATABASE_MONITOR_SECRET = "/mobilytics/local/verify/database-monitor-url"
SECRET_NAMES = (*SECRET_NAMES, DATABASE_MONITOR_SECRET)
