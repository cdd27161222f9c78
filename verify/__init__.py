"""verify: post-deploy verification for the Mobilytics platform."""
