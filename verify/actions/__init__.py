"""After the verdict: rollback hooks, notifications and the CodeDeploy status (the deploy gate)."""
