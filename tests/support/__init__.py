"""Test support that is not library code: a throwaway one-node SLURM cluster (testcluster)."""
