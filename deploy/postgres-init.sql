-- Run once by the postgres container on an empty volume (compose.yml mounts it into
-- /docker-entrypoint-initdb.d). One database for the backend + gateway tables, one for Rasa's
-- tracker events (they grow fastest and are pruned on their own schedule).
CREATE DATABASE paylater;
CREATE DATABASE rasa_trackers;
