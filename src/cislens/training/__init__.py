"""cislens.training"""
