// Authored replies for the demo's generate branch: for each few-shot sample (by sample index) the
// generator's new Code CoT, and for the programs that survive execute and filter, the reverse
// reply (the word problem) and the solve reply (a step-by-step solution ending in \boxed{}).
// Topics vary (fractions, percentages, combinatorics, ages, rates, ...); some samples fail the way
// real generations fail (see `expect`).
import { chat, type AuthoredReply } from './authoring.ts';

const r = String.raw;

export interface GeneratedEntry {
  sample: number;
  reply: AuthoredReply;
  /** The reverse reply: the problem written from the program (absent when the program never gets there). */
  problem?: string;
  /** The solve reply for that problem. */
  solution?: string;
  /** What the program's `output` is (Python's str() and type name), for programs that reach back-translation. */
  output?: { str: string; type: string };
  /** `kept`, or `<stage>:<reason>` as the run summary counts it. */
  expect: string;
  note?: string;
}

export const GENERATED: GeneratedEntry[] = [
  {
    sample: 0,
    output: { str: "5/12", type: 'Fraction' },
    expect: 'kept',
    reply: chat(
      'Here is a new problem, this time about fractions of a cake:',
      `from fractions import Fraction

input = {
    "maria_share": "1/4",
    "brother_share": "1/3",
}

def cake_left(input):
    # Step 1: the fraction Maria ate
    maria = Fraction(input["maria_share"])
    # Step 2: the fraction her brother ate
    brother = Fraction(input["brother_share"])
    # Step 3: the whole cake minus both shares
    left = 1 - maria - brother
    return left

output = cake_left(input)
print(output)
`,
      'The program prints 5/12.',
    ),
    problem: 'Maria baked a cake for the weekend. She ate 1/4 of the cake, and her brother ate 1/3 of the cake. What fraction of the cake is left?',
    solution: r`Maria ate $\frac{1}{4}$ of the cake and her brother ate $\frac{1}{3}$.

Together they ate
$$\frac{1}{4} + \frac{1}{3} = \frac{3}{12} + \frac{4}{12} = \frac{7}{12}.$$

The fraction left is
$$1 - \frac{7}{12} = \frac{5}{12}.$$

$\boxed{\frac{5}{12}}$`,
  },
  {
    sample: 1,
    output: { str: "64.8", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about a discount followed by sales tax:',
      `input = {
    "original_price": 80,
    "discount_percent": 25,
    "tax_percent": 8,
}

def final_price(input):
    # Step 1: the amount taken off by the discount
    discount = input["original_price"] * input["discount_percent"] / 100
    # Step 2: the price after the discount
    discounted = input["original_price"] - discount
    # Step 3: sales tax is charged on the discounted price
    tax = discounted * input["tax_percent"] / 100
    # Step 4: the price paid at the register
    total = discounted + tax
    return round(total, 2)

output = final_price(input)
print(output)
`,
      'It prints 64.8.',
    ),
    problem: 'A jacket originally costs $80. The store offers a 25% discount, and then an 8% sales tax is added to the discounted price. How much does the customer pay for the jacket?',
    solution: r`The discount is $25\%$ of $80$: $0.25 \times 80 = 20$ dollars.

The discounted price is $80 - 20 = 60$ dollars.

The sales tax is $8\%$ of $60$: $0.08 \times 60 = 4.80$ dollars.

The customer pays $60 + 4.80 = 64.80$ dollars.

$\boxed{64.80}$`,
  },
  {
    sample: 2,
    output: { str: "56", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program, a counting problem:',
      `import math

input = {
    "club_members": 8,
    "committee_size": 3,
}

def committees(input):
    # Step 1: the order of the chosen members does not matter
    n = input["club_members"]
    k = input["committee_size"]
    # Step 2: count the combinations of k members out of n
    ways = math.comb(n, k)
    # Step 3: return the number of different committees
    return ways

output = committees(input)
print(output)
`,
      'There are 56 possible committees.',
    ),
    problem: 'A chess club has 8 members. The club wants to choose a committee of 3 members to plan a tournament. How many different committees can be chosen?',
    solution: r`The order in which members are chosen does not matter, so we count combinations:

$$\binom{8}{3} = \frac{8 \times 7 \times 6}{3 \times 2 \times 1} = \frac{336}{6} = 56.$$

$\boxed{56}$`,
  },
  {
    sample: 3,
    output: { str: "36", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about ages:',
      `input = {
    "father_multiple_now": 3,
    "years_later": 12,
    "father_multiple_later": 2,
}

def father_age(input):
    # Step 1: try every possible age of the son
    for son in range(1, 100):
        # Step 2: the father is three times as old now
        father = input["father_multiple_now"] * son
        # Step 3: check the condition in 12 years
        if father + input["years_later"] == input["father_multiple_later"] * (son + input["years_later"]):
            return father
    return None

output = father_age(input)
print(output)
`,
      'The father is 36 years old.',
    ),
    problem: 'A father is three times as old as his son. In 12 years, the father will be twice as old as his son. How old is the father now?',
    solution: r`Let the son's age be $s$. Then the father is $3s$ years old.

In 12 years, the father will be $3s + 12$ and the son $s + 12$. The condition gives
$$3s + 12 = 2(s + 12) = 2s + 24,$$
so $s = 12$.

The father is $3 \times 12 = 36$ years old.

$\boxed{36}$`,
  },
  {
    sample: 4,
    output: { str: "2", type: 'Fraction' },
    expect: 'kept',
    note: 'the reverse reply carries a "**Problem:**" label that the stage strips',
    reply: chat(
      'Here is a new program about two pipes filling a tank:',
      `from fractions import Fraction

input = {
    "pipe_a_hours": 6,
    "pipe_b_hours": 3,
}

def hours_together(input):
    # Step 1: the part of the tank each pipe fills in one hour
    rate_a = Fraction(1, input["pipe_a_hours"])
    rate_b = Fraction(1, input["pipe_b_hours"])
    # Step 2: the combined rate
    combined = rate_a + rate_b
    # Step 3: time to fill one whole tank
    return 1 / combined

output = hours_together(input)
print(output)
`,
      'Together they fill the tank in 2 hours.',
    ),
    problem: '**Problem:** Pipe A can fill a water tank in 6 hours, and pipe B can fill the same tank in 3 hours. If both pipes are opened at the same time, how many hours will it take to fill the tank?',
    solution: r`Pipe A fills $\frac{1}{6}$ of the tank per hour, and pipe B fills $\frac{1}{3}$ of the tank per hour.

Together they fill
$$\frac{1}{6} + \frac{1}{3} = \frac{1}{6} + \frac{2}{6} = \frac{1}{2}$$
of the tank per hour.

So the tank is full after $1 \div \frac{1}{2} = 2$ hours.

$\boxed{2}$`,
  },
  {
    sample: 5,
    output: { str: "48.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about average speed:',
      `input = {
    "leg_distance_km": 120,
    "speed_out_kmh": 60,
    "speed_back_kmh": 40,
}

def average_speed(input):
    # Step 1: time for the trip out
    time_out = input["leg_distance_km"] / input["speed_out_kmh"]
    # Step 2: time for the trip back
    time_back = input["leg_distance_km"] / input["speed_back_kmh"]
    # Step 3: total distance over total time
    total_distance = 2 * input["leg_distance_km"]
    return total_distance / (time_out + time_back)

output = average_speed(input)
print(output)
`,
      'The average speed is 48 km/h.',
    ),
    problem: 'A driver travels 120 km to a nearby city at 60 km/h and returns along the same road at 40 km/h. What is the average speed for the whole round trip, in km/h?',
    solution: r`The trip out takes $120 \div 60 = 2$ hours.

The trip back takes $120 \div 40 = 3$ hours.

The total distance is $2 \times 120 = 240$ km and the total time is $2 + 3 = 5$ hours.

Average speed $= 240 \div 5 = 48$ km/h.

$\boxed{48}$`,
  },
  {
    sample: 6,
    output: { str: "600", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about simple interest:',
      `input = {
    "principal": 5000,
    "annual_rate_percent": 4,
    "years": 3,
}

def simple_interest(input):
    # Step 1: interest earned in one year
    yearly = input["principal"] * input["annual_rate_percent"] / 100
    # Step 2: interest over all the years
    total = yearly * input["years"]
    # Step 3: report it in whole dollars
    return int(total)

output = simple_interest(input)
print(output)
`,
      'The interest is $600.',
    ),
    problem: 'Daniel deposits $5,000 in a savings account that pays 4% simple interest per year. How much interest will he earn after 3 years?',
    solution: r`Each year the account earns $4\%$ of $\$5{,}000$:
$$0.04 \times 5000 = 200 \text{ dollars}.$$

Over 3 years, the interest is $3 \times 200 = 600$ dollars.

$\boxed{600}$`,
  },
  {
    sample: 7,
    output: { str: "1210.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about compound interest:',
      `input = {
    "principal": 1000,
    "rate_percent": 10,
    "years": 2,
}

def compound_amount(input):
    # Step 1: the yearly growth factor
    factor = 1 + input["rate_percent"] / 100
    # Step 2: grow the balance once per year
    balance = input["principal"]
    for _ in range(input["years"]):
        balance = balance * factor
    # Step 3: round to cents
    return round(balance, 2)

output = compound_amount(input)
print(output)
`,
      'After 2 years the balance is 1210.0.',
    ),
    problem: 'Sofia invests $1,000 at an annual interest rate of 10%, compounded once a year. How much money will be in her account after 2 years?',
    solution: r`After the first year the balance is $1000 \times 1.10 = 1100$ dollars.

After the second year it is $1100 \times 1.10 = 1210$ dollars.

$\boxed{1210}$`,
  },
  {
    sample: 8,
    output: { str: "37", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about fencing a garden:',
      `input = {
    "length_m": 12,
    "width_m": 8,
    "gate_width_m": 3,
}

def fence_needed(input):
    # Step 1: the perimeter of the rectangular garden
    perimeter = 2 * (input["length_m"] + input["width_m"])
    # Step 2: the gate does not need fencing
    fence = perimeter - input["gate_width_m"]
    # Step 3: return the meters of fence
    return fence

output = fence_needed(input)
print(output)
`,
      'He needs 37 meters of fence.',
    ),
    problem: 'A rectangular garden is 12 meters long and 8 meters wide. Omar wants to put a fence around it, leaving a 3-meter opening for a gate. How many meters of fence does he need?',
    solution: r`The perimeter of the garden is
$$2 \times (12 + 8) = 2 \times 20 = 40 \text{ meters}.$$

The gate opening is 3 meters, so the fence needed is $40 - 3 = 37$ meters.

$\boxed{37}$`,
  },
  {
    sample: 9,
    output: { str: "153.94", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about the area of a circle:',
      `import math

input = {
    "radius_cm": 7,
    "decimals": 2,
}

def circle_area(input):
    # Step 1: square the radius
    r_squared = input["radius_cm"] ** 2
    # Step 2: area = pi * r^2
    area = math.pi * r_squared
    # Step 3: round the result
    return round(area, input["decimals"])

output = circle_area(input)
print(output)
`,
      'The area is about 153.94 square centimeters.',
    ),
    problem: 'A circular placemat has a radius of 7 cm. What is its area in square centimeters, rounded to two decimal places?',
    solution: r`The area of a circle is $A = \pi r^2$.

With $r = 7$ cm:
$$A = \pi \times 49 \approx 3.14159 \times 49 \approx 153.938.$$

Rounded to two decimal places, the area is $153.94$ square centimeters.

$\boxed{153.94}$`,
  },
  {
    sample: 10,
    output: { str: "1/6", type: 'Fraction' },
    expect: 'kept',
    reply: chat(
      'Here is a new program, a probability problem solved by enumeration:',
      `from fractions import Fraction
from itertools import product

input = {
    "faces": 6,
    "target_sum": 7,
}

def probability_of_sum(input):
    # Step 1: list every outcome of rolling two dice
    outcomes = list(product(range(1, input["faces"] + 1), repeat=2))
    # Step 2: count the outcomes with the target sum
    favorable = sum(1 for a, b in outcomes if a + b == input["target_sum"])
    # Step 3: probability = favorable / total
    return Fraction(favorable, len(outcomes))

output = probability_of_sum(input)
print(output)
`,
      'The probability is 1/6.',
    ),
    problem: 'Two fair six-sided dice are rolled. What is the probability that the sum of the numbers shown is 7?',
    solution: r`There are $6 \times 6 = 36$ equally likely outcomes.

The pairs that sum to 7 are $(1,6), (2,5), (3,4), (4,3), (5,2), (6,1)$: 6 outcomes.

The probability is $\frac{6}{36} = \frac{1}{6}$.

$\boxed{\frac{1}{6}}$`,
  },
  {
    sample: 11,
    output: { str: "87", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about test averages:',
      `input = {
    "scores": [78, 92, 88, 80],
    "target_average": 85,
    "total_tests": 5,
}

def score_needed(input):
    # Step 1: points needed over all five tests
    needed_total = input["target_average"] * input["total_tests"]
    # Step 2: points already earned
    earned = sum(input["scores"])
    # Step 3: the last test must make up the difference
    return needed_total - earned

output = score_needed(input)
print(output)
`,
      'She needs 87 on the last test.',
    ),
    problem: 'Lena scored 78, 92, 88, and 80 on her first four math tests. What score does she need on the fifth test to have an average of 85 across all five tests?',
    solution: r`To average 85 over 5 tests, Lena needs $85 \times 5 = 425$ points in total.

So far she has $78 + 92 + 88 + 80 = 338$ points.

She needs $425 - 338 = 87$ on the fifth test.

$\boxed{87}$`,
  },
  {
    sample: 12,
    output: { str: "25", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about a ratio:',
      `input = {
    "boys_ratio": 3,
    "girls_ratio": 5,
    "total_students": 40,
}

def number_of_girls(input):
    # Step 1: total parts in the ratio
    parts = input["boys_ratio"] + input["girls_ratio"]
    # Step 2: students per part
    per_part = input["total_students"] // parts
    # Step 3: girls make up 5 parts
    return per_part * input["girls_ratio"]

output = number_of_girls(input)
print(output)
`,
      'There are 25 girls.',
    ),
    problem: 'The ratio of boys to girls in a class is 3:5. If there are 40 students in the class, how many girls are there?',
    solution: r`The ratio $3:5$ has $3 + 5 = 8$ parts.

Each part is $40 \div 8 = 5$ students.

The girls make up 5 parts: $5 \times 5 = 25$.

$\boxed{25}$`,
  },
  {
    sample: 13,
    output: { str: "7.5", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about scaling a recipe:',
      `input = {
    "cups_flour": 3,
    "cookies_per_batch": 12,
    "cookies_wanted": 30,
}

def flour_needed(input):
    # Step 1: flour per cookie
    per_cookie = input["cups_flour"] / input["cookies_per_batch"]
    # Step 2: flour for the cookies wanted
    flour = per_cookie * input["cookies_wanted"]
    # Step 3: return the cups of flour
    return flour

output = flour_needed(input)
print(output)
`,
      'He needs 7.5 cups of flour.',
    ),
    problem: 'A cookie recipe uses 3 cups of flour to make 12 cookies. How many cups of flour are needed to make 30 cookies?',
    solution: r`Each cookie needs $3 \div 12 = 0.25$ cups of flour.

For 30 cookies: $30 \times 0.25 = 7.5$ cups.

$\boxed{7.5}$`,
  },
  {
    sample: 14,
    output: { str: "30.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about mixing two solutions:',
      `input = {
    "volume_a_liters": 10,
    "percent_a": 20,
    "volume_b_liters": 5,
    "percent_b": 50,
}

def mixture_percent(input):
    # Step 1: salt in each solution
    salt_a = input["volume_a_liters"] * input["percent_a"] / 100
    salt_b = input["volume_b_liters"] * input["percent_b"] / 100
    # Step 2: total salt and total volume
    salt = salt_a + salt_b
    volume = input["volume_a_liters"] + input["volume_b_liters"]
    # Step 3: concentration of the mixture in percent
    return round(salt / volume * 100, 2)

output = mixture_percent(input)
print(output)
`,
      'The mixture is 30% salt.',
    ),
    problem: 'A chemist mixes 10 liters of a 20% salt solution with 5 liters of a 50% salt solution. What is the salt concentration of the mixture, as a percent?',
    solution: r`The first solution contains $10 \times 0.20 = 2$ liters of salt.

The second contains $5 \times 0.50 = 2.5$ liters of salt.

The mixture has $2 + 2.5 = 4.5$ liters of salt in $10 + 5 = 15$ liters.

Concentration: $\frac{4.5}{15} = 0.30 = 30\%$.

$\boxed{30}$`,
  },
  {
    sample: 15,
    output: { str: "2318", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT, a number theory problem:',
      `input = {
    "limit": 100,
    "divisor_a": 3,
    "divisor_b": 5,
}

def sum_of_multiples(input):
    # Step 1: go through every number below the limit
    total = 0
    for n in range(1, input["limit"]):
        # Step 2: keep the multiples of 3 or 5
        if n % input["divisor_a"] == 0 or n % input["divisor_b"] == 0:
            total += n
    # Step 3: return their sum
    return total

output = sum_of_multiples(input)
print(output)
`,
      'The sum is 2318.',
    ),
    problem: 'What is the sum of all positive integers less than 100 that are multiples of 3 or 5?',
    solution: r`Multiples of 3 below 100: $3 + 6 + \cdots + 99 = 3 \times \frac{33 \times 34}{2} = 1683$.

Multiples of 5 below 100: $5 + 10 + \cdots + 95 = 5 \times \frac{19 \times 20}{2} = 950$.

Multiples of 15 were counted twice: $15 + 30 + \cdots + 90 = 15 \times \frac{6 \times 7}{2} = 315$.

Sum $= 1683 + 950 - 315 = 2318$.

$\boxed{2318}$`,
  },
  {
    sample: 16,
    output: { str: "36", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about two buses leaving together:',
      `import math

input = {
    "bus_a_interval_min": 12,
    "bus_b_interval_min": 18,
}

def minutes_until_together(input):
    # Step 1: the buses leave together again at a common multiple of the intervals
    a = input["bus_a_interval_min"]
    b = input["bus_b_interval_min"]
    # Step 2: the least common multiple
    lcm = a * b // math.gcd(a, b)
    # Step 3: return the minutes
    return lcm

output = minutes_until_together(input)
print(output)
`,
      'They leave together again after 36 minutes.',
    ),
    problem: 'Bus A leaves the station every 12 minutes and bus B leaves every 18 minutes. If both buses leave together at 8:00 a.m., after how many minutes will they next leave together?',
    solution: r`The buses leave together again after the least common multiple of 12 and 18 minutes.

$12 = 2^2 \times 3$ and $18 = 2 \times 3^2$, so $\text{lcm}(12, 18) = 2^2 \times 3^2 = 36$.

$\boxed{36}$`,
  },
  {
    sample: 17,
    output: { str: "12", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about packing fruit baskets:',
      `import math

input = {
    "apples": 48,
    "oranges": 36,
}

def most_baskets(input):
    # Step 1: every basket gets the same number of apples and of oranges
    apples = input["apples"]
    oranges = input["oranges"]
    # Step 2: the largest number of baskets divides both counts
    baskets = math.gcd(apples, oranges)
    # Step 3: return it
    return baskets

output = most_baskets(input)
print(output)
`,
      'At most 12 baskets.',
    ),
    problem: 'A grocer has 48 apples and 36 oranges. She wants to pack all of the fruit into identical baskets, with each basket holding the same number of apples and the same number of oranges. What is the greatest number of baskets she can make?',
    solution: r`The number of baskets must divide both 48 and 36.

$48 = 2^4 \times 3$ and $36 = 2^2 \times 3^2$, so $\gcd(48, 36) = 2^2 \times 3 = 12$.

She can make 12 baskets, each with 4 apples and 3 oranges.

$\boxed{12}$`,
  },
  {
    sample: 18,
    output: { str: "130", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about profit on shirts:',
      `input = {
    "shirts_bought": 25,
    "cost_each": 8,
    "sold_full_price": 20,
    "full_price": 15,
    "clearance_price": 6,
}

def profit(input):
    # Step 1: what the shirts cost
    cost = input["shirts_bought"] * input["cost_each"]
    # Step 2: revenue at full price and at clearance
    clearance_count = input["shirts_bought"] - input["sold_full_price"]
    revenue = input["sold_full_price"] * input["full_price"] + clearance_count * input["clearance_price"]
    # Step 3: profit is revenue minus cost
    return revenue - cost

output = profit(input)
print(output)
`,
      'The profit is $130.',
    ),
    problem: 'A shop owner buys 25 shirts for $8 each. She sells 20 of them at $15 each and the rest at a clearance price of $6 each. What is her total profit?',
    solution: r`The shirts cost $25 \times 8 = 200$ dollars.

She sells 20 shirts for $20 \times 15 = 300$ dollars and the remaining $25 - 20 = 5$ shirts for $5 \times 6 = 30$ dollars.

Revenue: $300 + 30 = 330$ dollars.

Profit: $330 - 200 = 130$ dollars.

$\boxed{130}$`,
  },
  {
    sample: 19,
    output: { str: "22", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about a savings goal:',
      `import math

input = {
    "goal": 450,
    "saved": 120,
    "weekly_saving": 15,
}

def weeks_needed(input):
    # Step 1: how much is still missing
    missing = input["goal"] - input["saved"]
    # Step 2: full weeks of saving needed (round up)
    weeks = math.ceil(missing / input["weekly_saving"])
    # Step 3: return the number of weeks
    return weeks

output = weeks_needed(input)
print(output)
`,
      'It takes 22 weeks.',
    ),
    problem: 'Kai wants to buy a bike that costs $450. He has already saved $120 and saves $15 every week. How many weeks will it take him to have enough money for the bike?',
    solution: r`Kai still needs $450 - 120 = 330$ dollars.

At $15$ dollars per week, that takes $330 \div 15 = 22$ weeks.

$\boxed{22}$`,
  },
  {
    sample: 20,
    output: { str: "510", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program, an arithmetic sequence:',
      `input = {
    "first_row_seats": 20,
    "extra_seats_per_row": 2,
    "rows": 15,
}

def total_seats(input):
    # Step 1: seats in the last row
    last_row = input["first_row_seats"] + (input["rows"] - 1) * input["extra_seats_per_row"]
    # Step 2: sum of an arithmetic sequence
    total = input["rows"] * (input["first_row_seats"] + last_row) // 2
    # Step 3: return the total
    return total

output = total_seats(input)
print(output)
`,
      'The theater has 510 seats.',
    ),
    problem: 'A theater has 15 rows of seats. The first row has 20 seats, and each row after that has 2 more seats than the row in front of it. How many seats are in the theater?',
    solution: r`The last row has $20 + 14 \times 2 = 48$ seats.

The total is the sum of an arithmetic sequence:
$$\frac{15 \times (20 + 48)}{2} = \frac{15 \times 68}{2} = 510.$$

$\boxed{510}$`,
  },
  {
    sample: 21,
    output: { str: "8000", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about bacteria growth:',
      `input = {
    "initial_bacteria": 500,
    "doubling_hours": 3,
    "elapsed_hours": 12,
}

def bacteria_after(input):
    # Step 1: how many times the colony doubles
    doublings = input["elapsed_hours"] // input["doubling_hours"]
    # Step 2: each doubling multiplies the count by 2
    count = input["initial_bacteria"] * 2 ** doublings
    # Step 3: return the count
    return count

output = bacteria_after(input)
print(output)
`,
      'There are 8000 bacteria after 12 hours.',
    ),
    problem: 'A colony of bacteria starts with 500 cells and doubles in size every 3 hours. How many cells will there be after 12 hours?',
    solution: r`In 12 hours the colony doubles $12 \div 3 = 4$ times.

$500 \times 2^4 = 500 \times 16 = 8000$.

$\boxed{8000}$`,
  },
  {
    sample: 22,
    output: { str: "48.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about successive percentage changes:',
      `input = {
    "start_price": 50,
    "increase_percent": 20,
    "decrease_percent": 20,
}

def final_price(input):
    # Step 1: the price after the increase
    raised = input["start_price"] * (1 + input["increase_percent"] / 100)
    # Step 2: the price after the decrease
    lowered = raised * (1 - input["decrease_percent"] / 100)
    # Step 3: round to cents
    return round(lowered, 2)

output = final_price(input)
print(output)
`,
      'The final price is $48.',
    ),
    problem: 'A book costs $50. Its price is raised by 20%, and a month later the new price is lowered by 20%. What is the final price of the book?',
    solution: r`After the 20% increase the price is $50 \times 1.2 = 60$ dollars.

After the 20% decrease it is $60 \times 0.8 = 48$ dollars.

$\boxed{48}$`,
  },
  {
    sample: 23,
    output: { str: "48", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT, a permutation problem:',
      `import math

input = {
    "books": 5,
    "books_kept_together": 2,
}

def arrangements(input):
    # Step 1: glue the books that must stay together into one block
    units = input["books"] - input["books_kept_together"] + 1
    # Step 2: arrange the units on the shelf
    outer = math.factorial(units)
    # Step 3: arrange the books inside the block
    inner = math.factorial(input["books_kept_together"])
    return outer * inner

output = arrangements(input)
print(output)
`,
      'There are 48 arrangements.',
    ),
    problem: 'Five different books are placed in a row on a shelf. Two of the books are a set and must be next to each other. In how many ways can the books be arranged?',
    solution: r`Treat the two books of the set as a single block. Then there are 4 items to arrange: $4! = 24$ ways.

The two books inside the block can be ordered in $2! = 2$ ways.

Total: $24 \times 2 = 48$.

$\boxed{48}$`,
  },
  {
    sample: 24,
    output: { str: "24", type: 'int' },
    expect: 'backtranslate:answer_mismatch',
    note: "the solver answers the sister's age (10) instead of Tom's (24)",
    reply: chat(
      'Here is a new program about ages:',
      `input = {
    "total_age": 34,
    "tom_multiple": 2,
    "tom_extra_years": 4,
}

def tom_age(input):
    # Step 1: sister + (2 * sister + 4) = 34, so 3 * sister = 30
    sister = (input["total_age"] - input["tom_extra_years"]) / (1 + input["tom_multiple"])
    # Step 2: Tom's age from the sister's age
    tom = input["tom_multiple"] * sister + input["tom_extra_years"]
    # Step 3: ages are whole numbers
    return int(tom)

output = tom_age(input)
print(output)
`,
      "Tom is 24 years old.",
    ),
    problem: "Tom is 4 years older than twice his sister's age. The sum of their ages is 34. How old is Tom?",
    solution: r`Let the sister's age be $x$. Then Tom's age is $2x + 4$.

The sum of their ages is 34:
$$x + (2x + 4) = 34 \implies 3x = 30 \implies x = 10.$$

So the sister is 10 years old.

$\boxed{10}$`,
  },
  {
    sample: 25,
    output: { str: "6.0", type: 'float' },
    expect: 'backtranslate:no_boxed_answer',
    note: 'the solution never states its final answer in \\boxed{} or "the answer is"',
    reply: chat(
      'Here is a new Code CoT about a work rate:',
      `input = {
    "pages": 36,
    "pages_per_minute_printer_a": 2,
    "pages_per_minute_printer_b": 4,
}

def minutes_to_print(input):
    # Step 1: pages per minute with both printers running
    combined = input["pages_per_minute_printer_a"] + input["pages_per_minute_printer_b"]
    # Step 2: minutes to print the whole document
    minutes = input["pages"] / combined
    # Step 3: return the minutes
    return minutes

output = minutes_to_print(input)
print(output)
`,
      'Printing takes 6 minutes.',
    ),
    problem: 'An office has two printers. Printer A prints 2 pages per minute and printer B prints 4 pages per minute. If both printers work together on a 36-page report, how many minutes will it take to print it?',
    solution: r`Working together, the printers print $2 + 4 = 6$ pages per minute.

A 36-page report takes $36 \div 6 = 6$ minutes.

Therefore, the printers need 6 minutes to print the report together.`,
  },
  {
    sample: 26,
    output: { str: "70000", type: 'int' },
    expect: 'backtranslate:contaminated:gsm8k',
    note: 'the generator reproduced a GSM8K test problem (Josh flipping a house); the reverse problem is a light rewording of it',
    reply: chat(
      'Here is a new program about flipping a house:',
      `input = {
    "purchase_price": 80000,
    "repairs": 50000,
    "value_increase_percent": 150,
}

def flip_profit(input):
    # Step 1: total money put into the house
    invested = input["purchase_price"] + input["repairs"]
    # Step 2: the new value after a 150% increase over the purchase price
    new_value = input["purchase_price"] * (100 + input["value_increase_percent"]) // 100
    # Step 3: profit is the new value minus the money invested
    return new_value - invested

output = flip_profit(input)
print(output)
`,
      'The profit is $70,000.',
    ),
    problem: 'Mark decides to try flipping an old house. He buys a house for $80,000 and then puts in $50,000 in repairs. This increased the value of the house by 150%. How much profit did he make?',
  },
  {
    sample: 27,
    expect: 'filter:near_duplicate',
    note: 'near-duplicate of sample 1: variables renamed, one input value changed (token Jaccard 0.88)',
    reply: chat(
      'Here is a new Code CoT about a sale price with tax:',
      `input = {
    "original_price": 90,
    "discount_percent": 25,
    "tax_percent": 8,
}

def price_at_register(input):
    # Step 1: the amount taken off by the discount
    off = input["original_price"] * input["discount_percent"] / 100
    # Step 2: the price after the discount
    sale_price = input["original_price"] - off
    # Step 3: sales tax is charged on the discounted price
    tax_amount = sale_price * input["tax_percent"] / 100
    # Step 4: the price paid at the register
    paid = sale_price + tax_amount
    return round(paid, 2)

output = price_at_register(input)
print(output)
`,
      'It prints 72.9.',
    ),
    // Replies for the case where dedup keeps this copy and drops sample 1 (whichever claims first
    // wins when the two land in different shards processed in parallel).
    problem: 'A coat originally costs $90. The store takes 25% off, and then an 8% sales tax is added to the reduced price. How much does the customer pay for the coat?',
    solution: r`The discount is $0.25 \times 90 = 22.50$ dollars, so the reduced price is $90 - 22.50 = 67.50$ dollars.

The tax is $0.08 \times 67.50 = 5.40$ dollars.

The customer pays $67.50 + 5.40 = 72.90$ dollars.

$\boxed{72.90}$`,
  },
  {
    sample: 28,
    expect: 'filter:duplicate',
    note: 'the same program as sample 2, word for word',
    reply: chat(
      'Here is another counting problem:',
      `import math

input = {
    "club_members": 8,
    "committee_size": 3,
}

def committees(input):
    # Step 1: the order of the chosen members does not matter
    n = input["club_members"]
    k = input["committee_size"]
    # Step 2: count the combinations of k members out of n
    ways = math.comb(n, k)
    # Step 3: return the number of different committees
    return ways

output = committees(input)
print(output)
`,
      'There are 56 possible committees.',
    ),
  },
  {
    sample: 29,
    expect: 'filter:too_short',
    note: 'five meaningful lines, below the minimum of six',
    reply: chat(
      'Here is a short one:',
      `input = {"length": 12, "width": 5}

def area(input):
    # area of a rectangle
    return input["length"] * input["width"]

output = area(input)
print(output)
`,
      'The area is 60.',
    ),
  },
  {
    sample: 30,
    expect: 'filter:nondeterministic',
    note: 'a Monte Carlo estimate with unseeded randomness: two runs disagree (a float mean, so they never agree by chance)',
    reply: chat(
      'Here is a new program that estimates an expected value by simulation:',
      `import random

input = {
    "trials": 20000,
    "low": 0.0,
    "high": 1.0,
}

def expected_larger(input):
    # Step 1: draw two uniform numbers many times
    total = 0.0
    for _ in range(input["trials"]):
        a = random.uniform(input["low"], input["high"])
        b = random.uniform(input["low"], input["high"])
        # Step 2: keep the larger of the two
        total += max(a, b)
    # Step 3: the average of the larger number
    return total / input["trials"]

output = expected_larger(input)
print(output)
`,
      'The estimate is close to 2/3.',
    ),
    // Reached only when the run does not re-run programs (execute.rerun off): then the simulated
    // estimate disagrees with the exact answer and back-translation rejects it instead.
    problem: 'Two numbers are chosen independently and uniformly at random between 0 and 1. What is the expected value of the larger of the two numbers?',
    solution: r`Let $M = \max(a, b)$. For $0 \le m \le 1$, $P(M \le m) = P(a \le m)\,P(b \le m) = m^2$, so $M$ has density $2m$.

Then
$$E[M] = \int_0^1 m \cdot 2m \, dm = \frac{2}{3}.$$

$\boxed{\frac{2}{3}}$`,
  },
  {
    sample: 31,
    expect: 'filter:missing_module',
    note: 'imports numpy, which the sandbox does not have',
    reply: chat(
      'Here is a new Code CoT using numpy for the statistics:',
      `import numpy as np

input = {
    "daily_steps": [8200, 10400, 7600, 9900, 12100, 6800, 11000],
    "goal": 9000,
}

def days_over_goal(input):
    # Step 1: put the step counts in an array
    steps = np.array(input["daily_steps"])
    # Step 2: compare each day with the goal
    over = steps > input["goal"]
    # Step 3: count the days over the goal
    return int(over.sum())

output = days_over_goal(input)
print(output)
`,
      'She beat her goal on 4 days.',
    ),
  },
  {
    sample: 32,
    expect: 'filter:huge_int',
    note: 'prints 5000! (16,326 digits), over the 10,000-digit limit',
    reply: chat(
      'Here is a new program about arranging a very large number of cards:',
      `import math
import sys

sys.set_int_max_str_digits(0)

input = {
    "cards": 5000,
    "decks": 1,
}

def orderings(input):
    # Step 1: the number of cards to shuffle
    n = input["cards"] * input["decks"]
    # Step 2: every ordering of n distinct cards
    ways = math.factorial(n)
    # Step 3: return the count
    return ways

output = orderings(input)
print(output)
`,
      'The number of orderings is astronomically large.',
    ),
  },
  {
    sample: 33,
    output: { str: "9.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about workers building a wall:',
      `input = {
    "workers": 3,
    "days": 12,
    "new_workers": 4,
}

def days_with_more_workers(input):
    # Step 1: the job takes a fixed number of worker-days
    worker_days = input["workers"] * input["days"]
    # Step 2: split it among the new team
    days = worker_days / input["new_workers"]
    # Step 3: return the days
    return days

output = days_with_more_workers(input)
print(output)
`,
      'It takes 9 days.',
    ),
    problem: 'Three workers can build a wall in 12 days. Working at the same rate, how many days would it take 4 workers to build the same wall?',
    solution: r`The wall takes $3 \times 12 = 36$ worker-days of work.

With 4 workers: $36 \div 4 = 9$ days.

$\boxed{9}$`,
  },
  {
    sample: 34,
    output: { str: "980.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about a tiered commission:',
      `input = {
    "sales": 16000,
    "tier_limit": 10000,
    "base_rate_percent": 5,
    "upper_rate_percent": 8,
}

def commission(input):
    # Step 1: commission on sales up to the tier limit
    base = min(input["sales"], input["tier_limit"]) * input["base_rate_percent"] / 100
    # Step 2: commission on sales above the limit
    upper = max(0, input["sales"] - input["tier_limit"]) * input["upper_rate_percent"] / 100
    # Step 3: total commission
    return base + upper

output = commission(input)
print(output)
`,
      'The commission is $980.',
    ),
    problem: 'A salesperson earns a 5% commission on the first $10,000 of her monthly sales and an 8% commission on any sales above $10,000. This month she sold $16,000 worth of goods. How much commission did she earn?',
    solution: r`On the first $\$10{,}000$ she earns $0.05 \times 10000 = 500$ dollars.

On the remaining $16000 - 10000 = 6000$ dollars she earns $0.08 \times 6000 = 480$ dollars.

Total commission: $500 + 480 = 980$ dollars.

$\boxed{980}$`,
  },
  {
    sample: 35,
    output: { str: "66", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about handshakes:',
      `input = {
    "people": 12,
}

def handshakes(input):
    # Step 1: each person shakes hands with everyone else
    n = input["people"]
    per_person = n - 1
    # Step 2: every handshake is counted twice that way
    total = n * per_person // 2
    # Step 3: return the number of handshakes
    return total

output = handshakes(input)
print(output)
`,
      'There are 66 handshakes.',
    ),
    problem: 'At a meeting, each of the 12 people shakes hands exactly once with every other person. How many handshakes take place?',
    solution: r`Each of the 12 people shakes hands with 11 others, giving $12 \times 11 = 132$.

Each handshake is counted twice (once for each person), so there are $132 \div 2 = 66$ handshakes.

$\boxed{66}$`,
  },
  {
    sample: 36,
    output: { str: "19", type: 'int' },
    expect: 'kept',
    reply: chat(
      'Here is a new program, an age puzzle:',
      `input = {
    "years_ahead": 5,
    "years_ago": 7,
    "multiple": 2,
}

def current_age(input):
    # Step 1: a + 5 = 2 * (a - 7), so a + 5 = 2a - 14
    # Step 2: collect the terms in a: (2 - 1) * a = 5 + 2 * 7
    rhs = input["years_ahead"] + input["multiple"] * input["years_ago"]
    coefficient = input["multiple"] - 1
    # Step 3: solve for a
    age = rhs // coefficient
    return age

output = current_age(input)
print(output)
`,
      'Ana is 19 years old.',
    ),
    problem: 'In 5 years, Ana will be twice as old as she was 7 years ago. How old is Ana now?',
    solution: r`Let Ana's age now be $a$.

In 5 years she will be $a + 5$; 7 years ago she was $a - 7$. So
$$a + 5 = 2(a - 7) = 2a - 14 \implies a = 19.$$

$\boxed{19}$`,
  },
  {
    sample: 37,
    output: { str: "3.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about unit prices:',
      `input = {
    "small_price": 3.60,
    "small_ounces": 12,
    "large_price": 5.40,
    "large_ounces": 20,
}

def savings_per_ounce_cents(input):
    # Step 1: price per ounce of each size
    small_unit = input["small_price"] / input["small_ounces"]
    large_unit = input["large_price"] / input["large_ounces"]
    # Step 2: how much cheaper the large size is per ounce
    saving = small_unit - large_unit
    # Step 3: express it in cents
    return round(saving * 100, 2)

output = savings_per_ounce_cents(input)
print(output)
`,
      'The large box saves 3 cents per ounce.',
    ),
    problem: 'A 12-ounce box of cereal costs $3.60 and a 20-ounce box costs $5.40. How many cents per ounce do you save by buying the larger box?',
    solution: r`The small box costs $3.60 \div 12 = 0.30$ dollars per ounce, i.e. 30 cents.

The large box costs $5.40 \div 20 = 0.27$ dollars per ounce, i.e. 27 cents.

The saving is $30 - 27 = 3$ cents per ounce.

$\boxed{3}$`,
  },
  {
    sample: 38,
    output: { str: "162.0", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new program about a rectangle with a given perimeter:',
      `input = {
    "perimeter_cm": 54,
    "length_to_width_ratio": 2,
}

def rectangle_area(input):
    # Step 1: perimeter = 2 * (length + width) = 2 * (2w + w) = 6w
    width = input["perimeter_cm"] / (2 * (input["length_to_width_ratio"] + 1))
    # Step 2: the length is twice the width
    length = input["length_to_width_ratio"] * width
    # Step 3: area of the rectangle
    return length * width

output = rectangle_area(input)
print(output)
`,
      'The area is 162 square centimeters.',
    ),
    problem: 'The length of a rectangle is twice its width, and its perimeter is 54 cm. What is the area of the rectangle in square centimeters?',
    solution: r`Let the width be $w$; the length is $2w$.

The perimeter is $2(2w + w) = 6w = 54$, so $w = 9$ cm and the length is $18$ cm.

The area is $18 \times 9 = 162$ square centimeters.

$\boxed{162}$`,
  },
  {
    sample: 39,
    output: { str: "4.43", type: 'float' },
    expect: 'kept',
    reply: chat(
      'Here is a new Code CoT about a marathon pace:',
      `input = {
    "distance_km": 42,
    "pace_min_per_km": 6,
    "water_stops": 7,
    "minutes_per_stop": 2,
}

def finish_time_hours(input):
    # Step 1: running time in minutes
    running = input["distance_km"] * input["pace_min_per_km"]
    # Step 2: time spent at water stops
    stops = input["water_stops"] * input["minutes_per_stop"]
    # Step 3: total time in hours, rounded to two decimals
    return round((running + stops) / 60, 2)

output = finish_time_hours(input)
print(output)
`,
      'She finishes in 4.43 hours.',
    ),
    problem: 'A runner completes a 42 km race at a pace of 6 minutes per kilometer. She also stops at 7 water stations for 2 minutes each. How many hours does the race take her in total? Round to two decimal places.',
    solution: r`Running time: $42 \times 6 = 252$ minutes.

Water stops: $7 \times 2 = 14$ minutes.

Total: $252 + 14 = 266$ minutes, which is $266 \div 60 \approx 4.43$ hours.

$\boxed{4.43}$`,
  },
];
