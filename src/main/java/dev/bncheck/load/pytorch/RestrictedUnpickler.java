package dev.bncheck.load.pytorch;

import dev.bncheck.load.InvalidInputException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads a pickle (protocols 2 to 5, as torch.save writes them) into plain values without running
 * anything: a {@code GLOBAL} becomes a {@link PyGlobal} name, a call ({@code REDUCE}) is allowed
 * only for the few functions a tensor checkpoint needs ({@link PickleCalls}), and an instance
 * ({@code NEWOBJ}) is a {@link PyObject} record of its class's name and state. Python's own
 * unpickler imports and calls whatever a pickle names, which is how a checkpoint runs
 * {@code os.system}; here such a pickle is an input error naming the global.
 */
final class RestrictedUnpickler implements PickleCalls.Failures {

  /** The Python 2 names of the modules whose globals matter here: what a checkpoint calls, or is refused for calling. */
  private static final Map<String, String> PYTHON2_MODULES = Map.of("__builtin__", "builtins", "copy_reg", "copyreg",
      "commands", "subprocess");

  private final String file;
  private final String entry;
  private final byte[] data;
  private final Function<PyTuple, Object> persistentLoad;
  private final List<Object> stack = new ArrayList<>();
  private final List<Integer> marks = new ArrayList<>();
  private final Map<Long, Object> memo = new HashMap<>();
  private final IdentityHashMap<Object, Integer> depths = new IdentityHashMap<>();
  private int pos;
  private int opcodeAt;

  /**
   * @param entry the pickle in the file, for messages ({@code archive/data.pkl})
   * @param persistentLoad what a persistent id (a storage reference) stands for
   */
  RestrictedUnpickler(String file, String entry, byte[] data, Function<PyTuple, Object> persistentLoad) {
    this.file = file;
    this.entry = entry;
    this.data = data;
    this.persistentLoad = persistentLoad;
  }

  /** The pickled value. */
  Object load() {
    // torch.save writes protocol 2 or later, which always begins with PROTO; anything else is not
    // its pickle, and the first bytes read as opcodes would give a baffling message
    if (data.length == 0 || data[0] != (byte) 0x80) {
      throw error("not a pickle of protocol 2 to 5 (no protocol header), as torch.save writes: "
          + (data.length > 0 && (data[0] == '(' || data[0] == '}' || data[0] == ']' || data[0] == 'c')
              ? "protocols 0 and 1 write none; save it again with torch.save's default protocol"
              : "the entry holds something else"));
    }
    while (true) {
      opcodeAt = pos;
      int op = u8();
      switch (op) {
        case 0x80 -> { // PROTO
          int protocol = u8();
          if (protocol < 2 || protocol > 5) {
            throw error("pickle protocol " + protocol + "; torch.save writes protocols 2 to 5");
          }
        }
        case 0x95 -> skipFrameHeader(); // FRAME: a length prefix only
        case '.' -> { // STOP
          Object result = pop();
          if (!stack.isEmpty() || !marks.isEmpty()) {
            throw error("values left on the pickle stack at STOP");
          }
          return result;
        }
        case '(' -> { // MARK
          marks.add(stack.size());
        }
        case '0' -> pop(); // POP
        case '1' -> popMark(); // POP_MARK
        case '2' -> push(peek()); // DUP
        case 'N' -> push(PyNone.NONE);
        case 0x88 -> push(true); // NEWTRUE
        case 0x89 -> push(false); // NEWFALSE
        case 'J' -> push((long) i32()); // BININT
        case 'K' -> push((long) u8()); // BININT1
        case 'M' -> push((long) (u8() | u8() << 8)); // BININT2
        case 0x8a -> push(longOf(u8())); // LONG1
        case 0x8b -> push(longOf(length(i32()))); // LONG4
        case 'G' -> push(Double.longBitsToDouble(bigEndianLong())); // BINFLOAT
        case 'X' -> push(utf8(length(u32()))); // BINUNICODE
        case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
        case 0x8d -> push(utf8(length(i64()))); // BINUNICODE8
        case 'T' -> push(latin1(length(i32()))); // BINSTRING
        case 'U' -> push(latin1(u8())); // SHORT_BINSTRING
        case 'B' -> push(bytes(length(u32()))); // BINBYTES
        case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
        case 0x8e, 0x96 -> push(bytes(length(i64()))); // BINBYTES8, BYTEARRAY8
        case ']' -> push(container(new ArrayList<>(), List.of())); // EMPTY_LIST
        case '}' -> push(container(new LinkedHashMap<>(), List.of())); // EMPTY_DICT
        case ')' -> push(container(new PyTuple(List.of()), List.of())); // EMPTY_TUPLE
        case 0x8f -> push(container(new ArrayList<>(), List.of())); // EMPTY_SET, a list: only its items matter
        case 'l', 0x91 -> { // LIST, FROZENSET
          List<Object> items = popMark();
          push(container(new ArrayList<>(items), items));
        }
        case 't' -> { // TUPLE
          List<Object> items = popMark();
          push(container(new PyTuple(items), items));
        }
        case 0x85, 0x86, 0x87 -> { // TUPLE1, TUPLE2, TUPLE3
          int n = op - 0x84;
          List<Object> items = new ArrayList<>(stack.subList(Math.max(0, stack.size() - n), stack.size()));
          if (items.size() < n) {
            throw error("stack underflow");
          }
          for (int i = 0; i < n; i++) {
            pop();
          }
          push(container(new PyTuple(items), items));
        }
        case 'd' -> { // DICT
          List<Object> items = popMark();
          push(setItems(container(new LinkedHashMap<>(), List.of()), items));
        }
        case 'a' -> { // APPEND
          Object item = pop();
          append(peek(), List.of(item));
        }
        case 'e', 0x90 -> { // APPENDS, ADDITEMS
          List<Object> items = popMark();
          append(peek(), items);
        }
        case 's' -> { // SETITEM
          Object value = pop();
          Object key = pop();
          setItems(peek(), List.of(key, value));
        }
        case 'u' -> { // SETITEMS
          List<Object> items = popMark();
          setItems(peek(), items);
        }
        case 'q' -> memoize(u8()); // BINPUT
        case 'r' -> memoize(u32()); // LONG_BINPUT
        case 0x94 -> memoize(memo.size()); // MEMOIZE
        case 'h' -> push(recall(u8())); // BINGET
        case 'j' -> push(recall(u32())); // LONG_BINGET
        case 'c' -> push(python3Name(line(), line())); // GLOBAL
        case 0x93 -> { // STACK_GLOBAL
          Object name = pop();
          Object module = pop();
          if (!(module instanceof String m) || !(name instanceof String n)) {
            throw error("STACK_GLOBAL without a module and a name");
          }
          push(new PyGlobal(m, n));
        }
        case 'R' -> { // REDUCE
          Object args = pop();
          Object callable = pop();
          if (!(callable instanceof PyGlobal g) || !(args instanceof PyTuple t)) {
            throw error("REDUCE of a " + describe(callable) + " with " + describe(args)
                + "; a checkpoint calls named functions with a tuple");
          }
          Object result = PickleCalls.call(g, t, this);
          push(container(result, t.items()));
        }
        case 0x81, 0x92 -> { // NEWOBJ, NEWOBJ_EX
          if (op == 0x92) {
            pop(); // the keyword arguments, which only __new__ would use
          }
          Object args = pop();
          Object cls = pop();
          if (!(cls instanceof PyGlobal g) || !(args instanceof PyTuple)) {
            throw error("NEWOBJ of a " + describe(cls) + "; a checkpoint creates instances of named classes");
          }
          push(instance(g));
        }
        case 'b' -> build(); // BUILD
        case 'Q' -> { // BINPERSID
          Object id = pop();
          if (!(id instanceof PyTuple t)) {
            throw error("persistent id is a " + describe(id) + ", expected a tuple");
          }
          push(persistentLoad.apply(t));
        }
        case 'i', 'o' -> throw refusal(op == 'i' ? python3Name(line(), line()) : classOfObj(),
            "creates an instance by calling its class");
        case 0x82, 0x83, 0x84 -> throw error("extension code (EXT" + (op == 0x82 ? 1 : op == 0x83 ? 2 : 4)
            + "): the pickle names a global through Python's copyreg registry, which bncheck does not resolve");
        case 0x97, 0x98 -> throw error("out-of-band buffer (" + (op == 0x97 ? "NEXT_BUFFER" : "READONLY_BUFFER")
            + "), which torch.save does not write");
        default -> throw error(String.format("unknown or unsupported pickle opcode 0x%02x", op));
      }
    }
  }

  /**
   * A global as Python 3 resolves it: protocol 2 writes a few modules under their Python 2 names
   * ({@code __builtin__.eval}, {@code commands.Popen}), which Python 3 maps back when it loads.
   */
  private static PyGlobal python3Name(String module, String name) {
    return new PyGlobal(PYTHON2_MODULES.getOrDefault(module, module), name);
  }

  /** An instance from {@code cls.__new__(cls)}: the dict types as values, any other class as a record of its name. */
  private Object instance(PyGlobal cls) {
    if (cls.is("collections.OrderedDict") || cls.is("builtins.dict")) {
      return container(new LinkedHashMap<>(), List.of());
    }
    return container(new PyObject(cls), List.of());
  }

  private void build() {
    Object state = pop();
    Object target = peek();
    if (target instanceof PyObject o) {
      o.setState(state);
      deepen(target, state);
    } else if (!(target instanceof Map<?, ?>) || !(state instanceof Map<?, ?> || state == PyNone.NONE)) {
      // an OrderedDict's attributes (a state_dict's _metadata) say nothing bncheck reads
      throw error("BUILD of a " + describe(target) + " with " + describe(state));
    }
  }

  @SuppressWarnings("unchecked")
  private void append(Object target, List<Object> items) {
    if (!(target instanceof ArrayList<?>)) {
      throw error("APPEND to a " + describe(target) + ", not a list being built");
    }
    ((List<Object>) target).addAll(items);
    for (Object item : items) {
      deepen(target, item);
    }
  }

  @SuppressWarnings("unchecked")
  private Object setItems(Object target, List<Object> items) {
    if (!(target instanceof LinkedHashMap<?, ?>)) {
      throw error("SETITEM on a " + describe(target) + ", not a dict");
    }
    if (items.size() % 2 != 0) {
      throw error("SETITEMS with an odd number of values");
    }
    Map<Object, Object> map = (Map<Object, Object>) target;
    for (int i = 0; i < items.size(); i += 2) {
      Object key = items.get(i);
      if (!hashable(key)) {
        throw error("a dict key that is a " + describe(key) + "; bncheck reads dicts keyed by names, numbers and flat"
            + " tuples of them");
      }
      map.put(key, items.get(i + 1));
      deepen(target, items.get(i + 1));
    }
    return target;
  }

  /** Records a new container's nesting depth: one more than its deepest item. */
  private Object container(Object value, List<Object> items) {
    if (value instanceof List<?> || value instanceof Map<?, ?> || value instanceof PyTuple
        || value instanceof PyObject) {
      if (depths.size() >= TorchLimits.MAX_PICKLE_OBJECTS) {
        throw error("more than " + TorchLimits.MAX_PICKLE_OBJECTS + " containers");
      }
      depths.put(value, 0);
      deepen(value, PyNone.NONE);
      for (Object item : items) {
        deepen(value, item);
      }
    }
    return value;
  }

  /** Raises a container's depth to hold {@code item}, refusing nesting beyond the limit. */
  private void deepen(Object container, Object item) {
    int depth = Math.max(depths.getOrDefault(container, 0), depths.getOrDefault(item, 0) + 1);
    if (depth > TorchLimits.MAX_NESTING) {
      throw error("containers nested more than " + TorchLimits.MAX_NESTING + " deep");
    }
    depths.put(container, depth);
  }

  private void memoize(long index) {
    if (memo.size() + stack.size() >= TorchLimits.MAX_PICKLE_OBJECTS) {
      throw error("more than " + TorchLimits.MAX_PICKLE_OBJECTS + " objects");
    }
    memo.put(index, peek());
  }

  private Object recall(long index) {
    Object value = memo.get(index);
    if (value == null) {
      throw error("memo entry " + index + " read before it was written");
    }
    return value;
  }

  private void push(Object value) {
    if (stack.size() >= TorchLimits.MAX_PICKLE_OBJECTS) {
      throw error("more than " + TorchLimits.MAX_PICKLE_OBJECTS + " values on the stack");
    }
    stack.add(value);
  }

  private Object pop() {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) {
      throw error("stack underflow");
    }
    return stack.remove(stack.size() - 1);
  }

  private Object peek() {
    int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    if (stack.size() <= floor) {
      throw error("stack underflow");
    }
    return stack.get(stack.size() - 1);
  }

  private List<Object> popMark() {
    if (marks.isEmpty()) {
      throw error("no MARK to pop to");
    }
    int mark = marks.remove(marks.size() - 1);
    List<Object> items = new ArrayList<>(stack.subList(mark, stack.size()));
    stack.subList(mark, stack.size()).clear();
    return items;
  }

  /** The class an OBJ opcode would call, for the refusal: the first value after the mark. */
  private PyGlobal classOfObj() {
    List<Object> items = popMark();
    return !items.isEmpty() && items.get(0) instanceof PyGlobal g ? g : new PyGlobal("?", "?");
  }

  private int u8() {
    need(1);
    return data[pos++] & 0xff;
  }

  private int i32() {
    need(4);
    int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | data[pos + 3] << 24;
    pos += 4;
    return v;
  }

  private long u32() {
    return i32() & 0xffffffffL;
  }

  private long i64() {
    long low = u32();
    return low | u32() << 32;
  }

  private long bigEndianLong() {
    need(8);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = v << 8 | (data[pos++] & 0xff);
    }
    return v;
  }

  private void skipFrameHeader() {
    long frame = i64();
    if (frame < 0 || frame > data.length - pos) {
      throw error("frame of " + Long.toUnsignedString(frame) + " bytes, past the end of the pickle");
    }
  }

  /** A length field checked against what is left of the pickle. */
  private int length(long declared) {
    if (declared < 0 || declared > data.length - pos) {
      throw error("a value of " + declared + " bytes, past the end of the pickle (" + (data.length - pos) + " left)");
    }
    return (int) declared;
  }

  private Object longOf(int n) {
    if (n > 1024) {
      throw error("an integer of " + n + " bytes");
    }
    need(n);
    byte[] bigEndian = new byte[Math.max(n, 1)];
    for (int i = 0; i < n; i++) {
      bigEndian[n - 1 - i] = data[pos + i];
    }
    pos += n;
    BigInteger value = n == 0 ? BigInteger.ZERO : new BigInteger(bigEndian);
    return value.bitLength() < 64 ? (Object) value.longValue() : value;
  }

  private String utf8(int n) {
    need(n);
    String s = new String(data, pos, n, StandardCharsets.UTF_8);
    pos += n;
    return s;
  }

  private String latin1(int n) {
    need(n);
    String s = new String(data, pos, n, StandardCharsets.ISO_8859_1);
    pos += n;
    return s;
  }

  private byte[] bytes(int n) {
    need(n);
    byte[] b = Arrays.copyOfRange(data, pos, pos + n);
    pos += n;
    return b;
  }

  /** One line of a GLOBAL: a dotted name, not arbitrary text. */
  private String line() {
    int start = pos;
    while (pos < data.length && data[pos] != '\n') {
      if (pos - start > 1000) {
        throw error("a global's name longer than 1000 characters");
      }
      pos++;
    }
    need(1);
    String s = new String(data, start, pos - start, StandardCharsets.UTF_8);
    pos++;
    return s;
  }

  private void need(int n) {
    if (n > data.length - pos) {
      throw error("the pickle ends early (truncated)");
    }
  }

  @Override
  public InvalidInputException refusal(PyGlobal global, String what) {
    return new InvalidInputException(file, entry + " at byte " + opcodeAt, what + " " + global.qualifiedName()
        + ", which is not among the functions a tensor checkpoint needs; bncheck never runs code from a"
        + " checkpoint (save the weights alone: torch.save(model.state_dict(), path), or as .safetensors)");
  }

  @Override
  public InvalidInputException error(String problem) {
    return new InvalidInputException(file, entry + " at byte " + opcodeAt, problem);
  }

  /**
   * Whether a value may key a dict here: a name, a number, or a flat tuple of them. Checkpoints key
   * their dicts by names and numbers; a container inside a key could hold the key itself, or share
   * items so that hashing it takes exponential time.
   */
  static boolean hashable(Object key) {
    if (key instanceof PyTuple t) {
      return t.items().stream().allMatch(RestrictedUnpickler::scalar);
    }
    return scalar(key);
  }

  private static boolean scalar(Object value) {
    return value instanceof String || value instanceof Long || value instanceof BigInteger || value instanceof Double
        || value instanceof Boolean || value instanceof byte[] || value == PyNone.NONE || value instanceof PyGlobal;
  }

  /** A pickle value's type as Python would name it, for messages. */
  static String describe(Object value) {
    if (value instanceof PyObject o) {
      return o.type().qualifiedName() + " instance";
    }
    if (value instanceof PyGlobal g) {
      return "global " + g.qualifiedName();
    }
    if (value instanceof PyTuple) {
      return "tuple";
    }
    if (value instanceof List<?>) {
      return "list";
    }
    if (value instanceof Map<?, ?>) {
      return "dict";
    }
    if (value instanceof TensorView) {
      return "tensor";
    }
    if (value instanceof Storage) {
      return "storage";
    }
    if (value instanceof String) {
      return "str";
    }
    if (value instanceof byte[]) {
      return "bytes";
    }
    if (value instanceof Long || value instanceof BigInteger) {
      return "int";
    }
    if (value instanceof Double) {
      return "float";
    }
    if (value instanceof Boolean) {
      return "bool";
    }
    return value == PyNone.NONE ? "None" : value.getClass().getSimpleName();
  }
}
