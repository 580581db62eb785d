"""pyscale's demo app: `pyscale_demo.wsgi:application` (WSGI, gevent) and its twin
`pyscale_demo.asgi:application` (ASGI, uvicorn), with the same routes."""
