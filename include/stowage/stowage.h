// stowage layer: checkpoint
//
// The whole public API: save, restore and inspect Orbax checkpoints.
#pragma once

#include "stowage/array.h"
#include "stowage/array_checkpoint_handler.h"
#include "stowage/checkpoint_manager.h"
#include "stowage/checkpointer.h"
#include "stowage/composite_checkpoint_handler.h"
#include "stowage/coordinator.h"
#include "stowage/directory.h"
#include "stowage/dtype.h"
#include "stowage/error.h"
#include "stowage/future.h"
#include "stowage/inspect.h"
#include "stowage/json_checkpoint_handler.h"
#include "stowage/kvstore.h"
#include "stowage/ocdbt.h"
#include "stowage/pytree_checkpoint_handler.h"
#include "stowage/s3.h"
#include "stowage/sharding.h"
#include "stowage/standard_checkpoint_handler.h"
#include "stowage/tree.h"
#include "stowage/type_handler.h"
#include "stowage/verify.h"
