output "task_role_arn" {
  description = "The monitor's task role (the policy of `verify iam-policy --monitor`)."
  value       = aws_iam_role.task.arn
}

output "log_group_name" {
  description = "Where the monitor's output and EMF metrics go."
  value       = aws_cloudwatch_log_group.monitor.name
}

output "schedule_arn" {
  description = "The EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.monitor.arn
}
