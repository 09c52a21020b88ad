#!/usr/bin/python3
"""The collector as a CGI program, for servers without mod_wsgi."""
import wsgiref.handlers

from wlcg_collector import create_app

wsgiref.handlers.CGIHandler().run(create_app())
