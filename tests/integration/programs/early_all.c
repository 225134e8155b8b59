/* early_all (clean): prints the log of early_all_lib's constructor, which
 * called every wrapper before lockrace's constructor ran. The output must
 * be the same natively and under lockrace, and nothing reported. */
#include <stdio.h>

#include "early_all.h"

int main(void)
{
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < early_all_logs[i].n; k++)
            printf("%s %s %d\n", early_all_logs[i].who, early_all_logs[i].calls[k].name,
                   early_all_logs[i].calls[k].rc);
    return 0;
}
