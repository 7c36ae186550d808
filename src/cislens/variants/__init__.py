"""Variant effects and sequence scoring with the trained ensembles (VCF -> allele windows -> effects)."""
