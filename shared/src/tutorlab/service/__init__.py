"""What every TutorLab service is built from: app factory, dependencies, auth, errors, jobs API."""

from tutorlab.service.app import ServiceSpec, create_service_app
from tutorlab.service.deps import ServiceState, get_state, require_api_key

__all__ = ["ServiceSpec", "ServiceState", "create_service_app", "get_state", "require_api_key"]
