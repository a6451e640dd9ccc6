"""Model operations for ML engineers: build, register, scale, switch and roll back TorchServe model versions.

    python -m modelops --help
"""

from modelops.management import ManagementClient, ManagementError, ModelVersion

__all__ = ["ManagementClient", "ManagementError", "ModelVersion"]
