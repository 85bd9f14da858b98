// Types of scripts/replay-dockerfile.mjs for the tests that read the Dockerfile with it.
export interface DockerfileStage {
  readonly name: string;
  readonly from: string;
  readonly steps: readonly { readonly op: string; readonly args: string }[];
}
export function parseDockerfile(text: string): DockerfileStage[];
