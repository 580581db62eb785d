"""pyscale's demo WSGI app; the entry point is `pyscale_demo.wsgi:application`."""
