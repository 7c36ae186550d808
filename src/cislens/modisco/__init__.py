"""Motif discovery from attribution maps: TF-MoDISco patterns, seqlets, their JASPAR matches."""
