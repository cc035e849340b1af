@echo off
rem Launcher for bncheck on Windows; the counterpart of bin/bncheck, with the same two shapes:
rem - a checkout (pom.xml beside bin\): builds target\bncheck.jar when it is missing (after
rem   changing the sources, run "mvnw.cmd -DskipTests package" yourself), then runs it;
rem - an unpacked distribution archive (lib\ beside bin\): runs lib\*.jar and never builds.
rem Java: %JAVA_HOME%\bin\java.exe if JAVA_HOME is set, else java on the PATH. JVM options:
rem BNCHECK_JAVA_OPTS (default -Xmx2g -XX:+UseSerialGC -Xmn32m, as bin/bncheck says why).
setlocal
set "BNCHECK_ROOT=%~dp0.."

set "BNCHECK_JAVA=java"
if defined JAVA_HOME set "BNCHECK_JAVA=%JAVA_HOME%\bin\java.exe"
"%BNCHECK_JAVA%" -version >nul 2>&1
if not errorlevel 1 goto java_found
echo bncheck: no Java found (%BNCHECK_JAVA%); install a Java 17 runtime, or set JAVA_HOME to one 1>&2
exit /b 4
:java_found

if not defined BNCHECK_JAVA_OPTS set "BNCHECK_JAVA_OPTS=-Xmx2g -XX:+UseSerialGC -Xmn32m"
rem inspect runs no statistics kernel and starts faster without the optimizing compiler.
if /i "%~1"=="inspect" set "BNCHECK_JAVA_OPTS=-XX:TieredStopAtLevel=1 %BNCHECK_JAVA_OPTS%"
rem TensorFlow's native runtime logs to stderr; keep its warnings and errors only.
if not defined TF_CPP_MIN_LOG_LEVEL set "TF_CPP_MIN_LOG_LEVEL=2"
rem TensorFlow runs channels-first (NCHW) convolutions on a CPU only through oneDNN.
if not defined TF_ENABLE_ONEDNN_OPTS set "TF_ENABLE_ONEDNN_OPTS=1"

if exist "%BNCHECK_ROOT%\pom.xml" goto checkout
if exist "%BNCHECK_ROOT%\lib\" goto archive
echo bncheck: %BNCHECK_ROOT% is neither a checkout (pom.xml) nor an unpacked archive (lib\) 1>&2
exit /b 4

:checkout
if exist "%BNCHECK_ROOT%\target\bncheck.jar" goto run_checkout
echo bncheck: building the jar (first use; needs Java 17)... 1>&2
set "BNCHECK_MAVEN=%BNCHECK_ROOT%\mvnw.cmd"
where mvn >nul 2>&1 && set "BNCHECK_MAVEN=mvn"
pushd "%BNCHECK_ROOT%"
call "%BNCHECK_MAVEN%" -B -q -Dmaven.test.skip=true -Dbncheck.dist.host.skip=true package 1>&2
set "BNCHECK_BUILD=%ERRORLEVEL%"
popd
if "%BNCHECK_BUILD%"=="0" goto run_checkout
echo bncheck: the build failed 1>&2
exit /b 4
:run_checkout
"%BNCHECK_JAVA%" %BNCHECK_JAVA_OPTS% -jar "%BNCHECK_ROOT%\target\bncheck.jar" %*
exit /b %ERRORLEVEL%

:archive
"%BNCHECK_JAVA%" %BNCHECK_JAVA_OPTS% -cp "%BNCHECK_ROOT%\lib\*" dev.bncheck.cli.Main %*
exit /b %ERRORLEVEL%
