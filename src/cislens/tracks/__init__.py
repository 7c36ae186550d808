"""Genome-browser tracks: a variant's ensemble predictions and contributions over the test windows as
bigWig files (with a trackDb-style listing), for datasets on a genome."""
