# The image a Kubernetes sweep runs (`latent sweep export NAME --to kubernetes`): the `latent` command on .NET 10.
#   docker build -t latentlab:0.1.0 .
# The Job mounts a PersistentVolumeClaim at /work: the planned sweep under /work/results, the data under /work/data.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# The publish step applies the TorchSharp libstdc++ fix when the image's libstdc++ needs it (build/TorchSharpLinuxFix.targets).
RUN dotnet publish src/LatentLab.Cli/LatentLab.Cli.csproj -c Release -o /opt/latentlab

FROM mcr.microsoft.com/dotnet/runtime:10.0
COPY --from=build /opt/latentlab /opt/latentlab
RUN printf '#!/bin/sh\nexec dotnet /opt/latentlab/latent.dll "$@"\n' >/usr/local/bin/latent && chmod +x /usr/local/bin/latent
ENV LATENTLAB_DATA=/work/data
WORKDIR /work
ENTRYPOINT ["latent"]
