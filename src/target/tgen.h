/* tgen.h: the rehearsal server's generation routes: shot lists, storyboards, images. */
#ifndef VOLLEY_TGEN_H
#define VOLLEY_TGEN_H

#include <jansson.h>

#include "target/troutes.h"

/* POST /api/shots/generate/:jobId/:sceneIndex */
void tgen_shots_generate(tsrv_req *req, troutes_match *m);

/* GET /api/shots/:jobId/:sceneIndex */
void tgen_shots_scene(tsrv_req *req, troutes_match *m);

/* GET /api/shots/:jobId */
void tgen_shots_job(tsrv_req *req, troutes_match *m);

/* POST /api/storyboards/generate/:jobId/:sceneIndex: the synchronous batch. */
void tgen_storyboards_generate(tsrv_req *req, troutes_match *m);

/* GET /api/storyboards/:jobId/:sceneIndex: every image again, as raw base64. */
void tgen_storyboards_get(tsrv_req *req, troutes_match *m);

/* POST /api/storyboards/regenerate/:jobId/:sceneIndex/:shotId */
void tgen_storyboards_regenerate(tsrv_req *req, troutes_match *m);

/* GET /api/storyboards/:jobId/:sceneIndex/download (zip) */
void tgen_storyboards_zip(tsrv_req *req, troutes_match *m);

/* GET /api/storyboards/:jobId/:sceneIndex/image/:imageIndex (image/png) */
void tgen_storyboards_image(tsrv_req *req, troutes_match *m);

/* GET /api/jobs/:id/download (CSV of the job's shots) */
void tgen_job_csv(tsrv_req *req, troutes_match *m);

/* The guide's routes: POST /api/shots/generate-image, /api/shots/regenerate-image and
 * /api/storyboards/generate. */
void tgen_guide_image(tsrv_req *req, troutes_match *m);
void tgen_guide_regenerate(tsrv_req *req, troutes_match *m);
void tgen_guide_storyboards(tsrv_req *req, troutes_match *m);

#endif
