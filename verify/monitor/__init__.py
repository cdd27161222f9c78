"""`verify monitor`: the synthetic selection on an interval, metrics, alerts, history."""
