package dev.bncheck.load.pytorch;

/**
 * A name a pickle refers to ({@code GLOBAL module name}): only a name. bncheck never imports or
 * resolves it; what a pickle may do with it is decided where it is used ({@link PickleCalls}).
 */
record PyGlobal(String module, String name) {

  String qualifiedName() {
    return module + "." + name;
  }

  boolean is(String qualified) {
    return qualifiedName().equals(qualified);
  }
}
