variable "environment" {
  description = "The environments.toml environment the monitor watches (dev, staging, prod); its policy is policies/<environment>.json."
  type        = string
}

variable "image" {
  description = "The verify image (this repo's Dockerfile), by digest: <account>.dkr.ecr.<region>.amazonaws.com/verify@sha256:..."
  type        = string
}

variable "cluster_arn" {
  description = "The ECS cluster the monitor's Fargate tasks run in."
  type        = string
}

variable "vpc_id" {
  description = "The platform's VPC."
  type        = string
}

variable "vpc_cidr_block" {
  description = "The VPC's CIDR: Redis (6379) and PostgreSQL (5432) are reached inside it."
  type        = string
}

variable "private_subnet_ids" {
  description = "The platform's private subnets (NAT or VPC endpoints for the AWS APIs)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the log group and the state file system."
  type        = string
}

variable "schedule_expression" {
  description = "How often one `verify monitor --once` runs (Fargate needs about a minute to start a task)."
  type        = string
  default     = "rate(5 minutes)"
}

variable "cpu" {
  description = "Fargate task CPU units (Chromium for the frontend checks wants 1 vCPU)."
  type        = number
  default     = 1024
}

variable "memory" {
  description = "Fargate task memory (MiB)."
  type        = number
  default     = 2048
}
