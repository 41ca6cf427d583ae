/* timer.cl: an empty one-work-item kernel whose profiling timestamps mark a point
 * in the queue (markers have none on some implementations). */
__kernel void timer_mark(void)
{
}
