// libvorbisfile: Ogg Vorbis decoding (the full-length music of the segment study).
#include <vorbis/vorbisfile.h>
