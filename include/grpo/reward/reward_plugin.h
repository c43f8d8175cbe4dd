/*
 * include/grpo/reward/reward_plugin.h: the plugin ABI (reward/reward_plugin.h)
 * under the path it has in an installed tree, so a plugin built against the
 * source tree (-I<source>/include) writes the same line as one built against
 * an installed grpo (-I<prefix>/include): #include <grpo/reward/reward_plugin.h>
 */
#include "../../../reward/reward_plugin.h"
