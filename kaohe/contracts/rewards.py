"""Events of the rewards service (结果运用): it publishes none yet and consumes `scoring.ScoreUpdated`."""
