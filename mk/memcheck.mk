# Placeholder until the memory-safety check of bindings/ lands.
.PHONY: memcheck
memcheck:
	@echo "memcheck: not implemented yet"; exit 1
