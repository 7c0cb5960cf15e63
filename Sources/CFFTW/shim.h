// FFTW3, single precision only (fftwf_*).
#include <fftw3.h>
