"""cislens.report"""
