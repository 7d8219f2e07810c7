"""Bundled data files (CC0, written by the llmsl project); cards in ``datasets/``.

A package so that setuptools ships its *.csv / *.json files as package data.
"""
