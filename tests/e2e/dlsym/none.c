/* The control: no lookup, so no pkey_* call is reachable. */
#include <stdio.h>
int main(void) { printf("dlsym-ok\n"); return 0; }
