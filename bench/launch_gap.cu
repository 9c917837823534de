// GPU machine: what a kernel boundary costs inside a CUDA graph. Captures N
// dependent launches of an (almost) empty kernel, each a grid of B blocks of
// T threads, into one graph and prints the median replay time per kernel
// (CUDA events, 20 warm-up replays, 200 timed). Builds with the toolkit's
// nvcc on that machine; it is a measurement aid, not part of ptxnet.
//   nvcc -O2 -o launch_gap bench/launch_gap.cu && ./launch_gap
#include <algorithm>
#include <cstdio>
#include <vector>
#include <cuda_runtime.h>

__global__ void touch(float *p) {
  if (threadIdx.x == 0)
    p[blockIdx.x] += 1.0f;
}

static float replayMs(int kernels, int blocks, int threads, float *buf) {
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  cudaGraph_t g;
  cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal);
  for (int i = 0; i < kernels; ++i)
    touch<<<blocks, threads, 0, s>>>(buf);
  cudaStreamEndCapture(s, &g);
  cudaGraphExec_t e;
  cudaGraphInstantiate(&e, g, 0);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  for (int i = 0; i < 20; ++i)
    cudaGraphLaunch(e, s);
  std::vector<float> t;
  for (int i = 0; i < 200; ++i) {
    cudaEventRecord(a, s);
    cudaGraphLaunch(e, s);
    cudaEventRecord(b, s);
    cudaEventSynchronize(b);
    float ms;
    cudaEventElapsedTime(&ms, a, b);
    t.push_back(ms);
  }
  std::sort(t.begin(), t.end());
  cudaGraphExecDestroy(e);
  cudaGraphDestroy(g);
  cudaStreamDestroy(s);
  return t[t.size() / 2];
}

int main() {
  float *buf;
  cudaMalloc(&buf, 4096 * sizeof(float));
  cudaMemset(buf, 0, 4096 * sizeof(float));
  std::printf("kernels blocks threads  replay_us  us_per_kernel\n");
  for (int blocks : {132, 400, 2250})
    for (int kernels : {1, 15, 30}) {
      float ms = replayMs(kernels, blocks, 256, buf);
      std::printf("%7d %6d %7d %10.2f %14.2f\n", kernels, blocks, 256,
                  1000 * ms, 1000 * ms / kernels);
    }
  return cudaGetLastError() == cudaSuccess ? 0 : 1;
}
