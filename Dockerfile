# bncheck in a container: `docker build -t bncheck .` from a checkout, then
#   docker run --rm -v "$PWD:/work" bncheck check my-model --inputs calibration.npy
# (docs/ci.md). Builds for the machine's architecture: linux/amd64 or linux/arm64.

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -q -DskipTests package && docker/install-dist.sh /opt/bncheck

FROM eclipse-temurin:17-jre
COPY --from=build /opt/bncheck /opt/bncheck
RUN useradd --create-home --uid 10001 --user-group bncheck
# JavaCPP unpacks TensorFlow's natives into its cache on first use; /tmp is writable whatever
# user the container runs as (--user "$(id -u):$(id -g)" has no home directory).
ENV BNCHECK_JAVA_OPTS="-Xmx2g -XX:+UseSerialGC -Xmn32m -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp-cache"
USER bncheck
WORKDIR /work
ENTRYPOINT ["/opt/bncheck/bin/bncheck"]
CMD ["--help"]
