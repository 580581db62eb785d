-- The app's role owns its database; the superuser stays postgres (as `pyscale node up`).
CREATE ROLE pyscale LOGIN;
ALTER DATABASE pyscale OWNER TO pyscale;
