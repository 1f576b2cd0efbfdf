#include <sqlite3.h>

/// sqlite3_db_config is variadic, which Swift cannot call: this fixes the (int, int*) form
/// used by the boolean options (SQLITE_DBCONFIG_DEFENSIVE, SQLITE_DBCONFIG_TRUSTED_SCHEMA, ...).
static inline int tiledrop_sqlite3_db_config_bool(sqlite3 *db, int op, int value) {
    return sqlite3_db_config(db, op, value, (int *)0);
}
