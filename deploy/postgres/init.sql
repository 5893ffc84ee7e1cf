-- One database per TutorLab service: no service reads another's tables.
-- The postgres image runs this file once, on an empty data directory, as POSTGRES_USER
-- (who then owns the databases). Keep in sync with deploy/k8s/components/in-cluster-deps/
-- postgres-init.yaml (tests/unit/test_deploy.py checks both).
CREATE DATABASE tutorlab_tutor;
CREATE DATABASE tutorlab_eval;
CREATE DATABASE tutorlab_data;
CREATE DATABASE tutorlab_trainer;
