/*
 * cmd_version.c: `grpo version`: the version and the libraries linked, so a
 * bug report says which OpenBLAS threading model and HDF5 are in use.
 */
#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>

#include "cli.h"
#include "common/json.h"

int cmd_version(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        printf("usage: grpo version\n\nPrints grpo's version and the versions of the libraries it uses.\n");
        return EXIT_OK;
    }
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    int mpi_major, mpi_minor;
    MPI_Get_version(&mpi_major, &mpi_minor);
    int par = openblas_get_parallel();
    printf("grpo 0.1.0\n");
    printf("openblas: %s (threading: %s, %d threads)\n", openblas_get_config(),
           par == 2 ? "OpenMP" : (par == 1 ? "pthreads" : "sequential"), openblas_get_num_threads());
    printf("openmp:   %d max threads\n", omp_get_max_threads());
    printf("hdf5:     %u.%u.%u\n", maj, min, rel);
    printf("mpi:      %d.%d\n", mpi_major, mpi_minor);
    printf("cjson:    %s\n", cJSON_Version());
    return EXIT_OK;
}
