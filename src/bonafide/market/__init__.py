"""The market's pure domain: accounts and listings, orders and quotes, disputes, reviews,
moderation, the baseline reputation, customer service and promotions.

Owns: the rules of the marketplace, as plain functions and frozen dataclasses. Imports: the
standard library, ``bonafide.money`` and ``bonafide.errors``; never a database, a framework or a
clock (time is an argument). Nothing is re-exported here: import the module you need.
"""
