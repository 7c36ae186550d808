"""cislens.models"""
