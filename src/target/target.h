/* target.h: `volley target`, the IndieShots rehearsal server. */
#ifndef VOLLEY_TARGET_H
#define VOLLEY_TARGET_H

/* Runs the server until SIGINT or SIGTERM; argv[0] is "target". Returns the exit code. */
int target_main(int argc, char **argv);

#endif
