"""gunicorn reads this file from the working directory: `gunicorn -w 4 wsgi:app`.

gunicorn refuses request lines over 4,094 bytes with its own HTML 414 page, which an
API client cannot parse. A long search (`q` of 10,000 characters, 90 KB once
percent-encoded) must instead reach the application, which answers with the JSON
error shape (422, the field named). 0 lifts gunicorn's own limit to its hard ceiling
of 1 MB per request line.
"""

limit_request_line = 0
