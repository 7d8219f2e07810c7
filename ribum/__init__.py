"""ribum"""
