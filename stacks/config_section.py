"""What every section of an environment file is (stacks/config.py reads the file)."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Frozen, and refusing keys it does not declare: a misspelt key is an error that names it, never a default."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
