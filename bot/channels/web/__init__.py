"""The read-only web dashboard (issue 15): one more channel on the bot's aiohttp server.

People sign in with a one-time link emailed to their registered address (``signin.py``), and
see the grid, a Marac's page, the national picture and (admins) the operator's view, each cut
to their registry scope (spec §6) on the server, with every figure from the same functions the
chat answers and ``marac-bot report`` use.
"""
