"""cislens.gia"""
