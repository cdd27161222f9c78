# verify monitor on a schedule: EventBridge Scheduler starts one Fargate task per period running
# `verify monitor --env=<environment> --once`; its alert state and history persist on EFS so that
# consecutive failures are counted across tasks. Apply once per environment and region.

locals {
  name       = "verify-monitor-${var.environment}"
  state_path = "/mnt/verify"
}

data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "monitor" {
  #checkov:skip=CKV_AWS_338:30 days is the issue's retention for synthetic-monitor logs; metrics carry the long view
  name              = "/ecs/${local.name}"
  retention_in_days = 30
  kms_key_id        = var.kms_key_arn
}

# --------------------------------------------------------------------------- roles

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# The task role: exactly `verify iam-policy --env=<environment> -m synthetic --monitor`.
resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  name   = "verify-iam-policy"
  role   = aws_iam_role.task.id
  policy = file("${path.module}/policies/${var.environment}.json")
}

resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["ecs:RunTask"]
    resources = [aws_ecs_task_definition.monitor.arn_without_revision]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-verify-monitor"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

# --------------------------------------------------------------------------- network

resource "aws_security_group" "monitor" {
  #checkov:skip=CKV2_AWS_5:attached by the schedule's ECS network configuration, which checkov does not follow
  name        = local.name
  description = "verify monitor tasks: HTTPS out, Redis and PostgreSQL inside the VPC, NFS to its state"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.monitor.id
  description       = "AWS APIs and the platform's HTTPS endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "redis" {
  security_group_id = aws_security_group.monitor.id
  description       = "ElastiCache Redis (queues, redis checks)"
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "postgres" {
  security_group_id = aws_security_group.monitor.id
  description       = "RDS PostgreSQL (db checks)"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = var.vpc_cidr_block
}

resource "aws_vpc_security_group_egress_rule" "nfs" {
  security_group_id            = aws_security_group.monitor.id
  description                  = "The monitor's state on EFS"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.state.id
}

resource "aws_security_group" "state" {
  name        = "${local.name}-state"
  description = "EFS mount targets of the verify monitor's state: NFS from its tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "state_nfs" {
  security_group_id            = aws_security_group.state.id
  description                  = "NFS from the verify monitor tasks"
  ip_protocol                  = "tcp"
  from_port                    = 2049
  to_port                      = 2049
  referenced_security_group_id = aws_security_group.monitor.id
}

# --------------------------------------------------------------------------- state (alerts, history)

resource "aws_efs_file_system" "state" {
  #checkov:skip=CKV2_AWS_18:a few KB of alert state and history: losing it costs one re-counted outage, not data
  creation_token = local.name
  encrypted      = true
  kms_key_id     = var.kms_key_arn
  tags           = { Name = local.name }
}

resource "aws_efs_mount_target" "state" {
  for_each        = toset(var.private_subnet_ids)
  file_system_id  = aws_efs_file_system.state.id
  subnet_id       = each.value
  security_groups = [aws_security_group.state.id]
}

resource "aws_efs_access_point" "state" {
  file_system_id = aws_efs_file_system.state.id
  posix_user {
    uid = 10001 # the image's user
    gid = 10001
  }
  root_directory {
    path = "/${var.environment}"
    creation_info {
      owner_uid   = 10001
      owner_gid   = 10001
      permissions = "0750"
    }
  }
}

# --------------------------------------------------------------------------- the task

resource "aws_ecs_task_definition" "monitor" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "state"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.state.id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.state.id
        iam             = "DISABLED"
      }
    }
  }

  volume {
    name = "tmp" # Chromium and pytest write here; the root filesystem stays read-only
  }

  container_definitions = jsonencode([
    {
      name                   = "verify"
      image                  = var.image
      essential              = true
      readonlyRootFilesystem = true
      user                   = "10001"
      command = [
        "monitor", "--env=${var.environment}", "--once", "--reports-dir=${local.state_path}/reports",
      ]
      environment = [
        { name = "HOME", value = "/tmp" },
      ]
      mountPoints = [
        { sourceVolume = "state", containerPath = local.state_path, readOnly = false },
        { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.monitor.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "verify"
        }
      }
    },
  ])
}

# --------------------------------------------------------------------------- the schedule

resource "aws_scheduler_schedule" "monitor" {
  name                = local.name
  description         = "verify monitor --env=${var.environment} --once"
  schedule_expression = var.schedule_expression
  kms_key_arn         = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.monitor.arn_without_revision
      launch_type         = "FARGATE"
      task_count          = 1

      network_configuration {
        subnets          = var.private_subnet_ids
        security_groups  = [aws_security_group.monitor.id]
        assign_public_ip = false
      }
    }

    retry_policy {
      maximum_retry_attempts = 0 # the next period is the retry
    }
  }
}
