"""The ground floor: typed settings and the names every layer shares (topics).

Imports nothing of the project; every other package may import it.
"""
