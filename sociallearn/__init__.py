"""sociallearn"""
