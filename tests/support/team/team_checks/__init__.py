"""A team's own component, outside verify: the billing service's status page (a test fixture)."""
