// Authored unify replies for the 40 demo seeds (examples/seeds/gsm8k-demo.jsonl), written the way
// a Qwen-style chat model answers: a short preamble, one ```python block in the Caco format, a
// brief closing line. Most are correct; a few fail the way real models fail (see `expect`).
import { chat, type AuthoredReply } from './authoring.ts';

export interface UnifyEntry {
  seedId: string;
  /** The start of the seed question: the responder recognizes the unify prompt by it. */
  q: string;
  reply: AuthoredReply;
  /** What the pipeline should do with it: kept, or `<stage>:<reason>` as the run summary counts it (execution statuses and the gold check are rejected in the filter stage). */
  expect: 'kept' | 'filter:exec_error' | 'filter:timeout' | 'filter:gold_mismatch' | 'unify:llm_refusal' | 'unify:llm_truncated';
}

export const UNIFY: UnifyEntry[] = [
  {
    seedId: 'gsm8k-train-0001',
    q: 'Natalia sold clips to 48 of her friends in April',
    expect: 'kept',
    reply: chat(
      "Here's the solution rewritten as a step-by-step Python program:",
      `input = {
    "clips_april": 48,
    "may_fraction_of_april": 0.5,
}

def total_clips(input):
    # Step 1: clips sold in April
    april = input["clips_april"]
    # Step 2: she sold half as many in May
    may = april * input["may_fraction_of_april"]
    # Step 3: add both months
    total = april + may
    return int(total)

output = total_clips(input)
print(output)
`,
      'Running it prints 72, the number of clips sold in April and May together.',
    ),
  },
  {
    seedId: 'gsm8k-train-0002',
    q: 'Weng earns $12 an hour for babysitting',
    expect: 'kept',
    reply: chat(
      'Sure! Here is the program:',
      `input = {
    "hourly_rate": 12,
    "minutes_worked": 50,
    "minutes_per_hour": 60,
}

def earnings(input):
    # Step 1: convert the hourly rate to a per-minute rate
    per_minute = input["hourly_rate"] / input["minutes_per_hour"]
    # Step 2: multiply by the minutes she babysat
    earned = per_minute * input["minutes_worked"]
    # Step 3: round away floating-point noise
    return round(earned, 2)

output = earnings(input)
print(output)
`,
      'The output is 10.0, i.e. Weng earned $10.',
    ),
  },
  {
    seedId: 'gsm8k-train-0003',
    q: 'Betty is saving money for a new wallet',
    expect: 'kept',
    reply: chat(
      'Here is the worked solution as a Python Code CoT:',
      `input = {
    "wallet_cost": 100,
    "parents_gift": 15,
    "grandparents_multiplier": 2,
}

def money_still_needed(input):
    # Step 1: Betty already has half of the cost
    saved = input["wallet_cost"] / 2
    # Step 2: her grandparents give twice what her parents give
    grandparents_gift = input["parents_gift"] * input["grandparents_multiplier"]
    # Step 3: everything she has so far
    have = saved + input["parents_gift"] + grandparents_gift
    # Step 4: what is still missing
    return int(input["wallet_cost"] - have)

output = money_still_needed(input)
print(output)
`,
      'It prints 5: Betty still needs $5.',
    ),
  },
  {
    seedId: 'gsm8k-train-0004',
    q: 'Julie is reading a 120-page book',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "total_pages": 120,
    "pages_yesterday": 12,
    "today_multiplier": 2,
}

def pages_tomorrow(input):
    # Step 1: pages read today, twice as many as yesterday
    today = input["pages_yesterday"] * input["today_multiplier"]
    # Step 2: pages read so far
    read = input["pages_yesterday"] + today
    # Step 3: pages remaining
    remaining = input["total_pages"] - read
    # Step 4: she reads half of the remaining pages tomorrow
    return remaining // 2

output = pages_tomorrow(input)
print(output)
`,
      'The program prints 42.',
    ),
  },
  {
    seedId: 'gsm8k-train-0005',
    q: 'James writes a 3-page letter to 2 different friends',
    expect: 'kept',
    reply: chat(
      'Here is the Code CoT:',
      `input = {
    "pages_per_letter": 3,
    "friends": 2,
    "times_per_week": 2,
    "weeks_per_year": 52,
}

def pages_per_year(input):
    # Step 1: pages written each time he writes
    per_session = input["pages_per_letter"] * input["friends"]
    # Step 2: pages per week
    per_week = per_session * input["times_per_week"]
    # Step 3: pages in a year
    return per_week * input["weeks_per_year"]

output = pages_per_year(input)
print(output)
`,
      'So James writes 624 pages a year.',
    ),
  },
  {
    seedId: 'gsm8k-train-0006',
    q: 'Mark has a garden with flowers',
    expect: 'kept',
    reply: chat(
      'Here is the solution as a Python program:',
      `input = {
    "yellow": 10,
    "purple_more_percent": 80,
    "green_percent_of_yellow_and_purple": 25,
}

def total_flowers(input):
    # Step 1: there are 80% more purple flowers than yellow ones
    purple = input["yellow"] * (100 + input["purple_more_percent"]) // 100
    # Step 2: yellow and purple together
    yellow_and_purple = input["yellow"] + purple
    # Step 3: green flowers are 25% of that
    green = yellow_and_purple * input["green_percent_of_yellow_and_purple"] // 100
    # Step 4: all flowers in the garden
    return yellow_and_purple + green

output = total_flowers(input)
print(output)
`,
      'Mark has 35 flowers in his garden.',
    ),
  },
  {
    seedId: 'gsm8k-train-0007',
    q: 'Albert is wondering how much pizza he can eat',
    expect: 'kept',
    reply: chat(
      'Sure, here it is:',
      `input = {
    "large_pizzas": 2,
    "small_pizzas": 2,
    "slices_per_large": 16,
    "slices_per_small": 8,
}

def slices_eaten(input):
    # Step 1: slices from the large pizzas
    large = input["large_pizzas"] * input["slices_per_large"]
    # Step 2: slices from the small pizzas
    small = input["small_pizzas"] * input["slices_per_small"]
    # Step 3: he eats all of them
    return large + small

output = slices_eaten(input)
print(output)
`,
      'He eats 48 pieces that day.',
    ),
  },
  {
    // A wrong computation: the program forgets the final doubling (prints 8, gold is 16).
    seedId: 'gsm8k-train-0008',
    q: 'Ken created a care package to send to his brother',
    expect: 'filter:gold_mismatch',
    reply: chat(
      "Here's a program that follows the weight of the box step by step:",
      `input = {
    "jelly_beans_first": 2,
    "brownie_factor": 3,
    "jelly_beans_second": 2,
    "gummy_worm_factor": 2,
}

def final_weight(input):
    # Step 1: jelly beans bring the box to 2 pounds
    weight = input["jelly_beans_first"]
    # Step 2: brownies triple the weight
    weight = weight * input["brownie_factor"]
    # Step 3: another 2 pounds of jelly beans
    weight = weight + input["jelly_beans_second"]
    # Step 4: gummy worms double the weight
    doubled = weight * input["gummy_worm_factor"]
    return weight

output = final_weight(input)
print(output)
`,
      'The final weight of the box is printed by the program.',
    ),
  },
  {
    seedId: 'gsm8k-train-0009',
    q: 'Alexis is applying for a new job',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "budget": 200,
    "shirt": 30,
    "pants": 46,
    "coat": 38,
    "socks": 11,
    "belt": 18,
    "money_left": 16,
}

def shoe_price(input):
    # Step 1: total spent on everything except the shoes
    known = input["shirt"] + input["pants"] + input["coat"] + input["socks"] + input["belt"]
    # Step 2: total spent including the shoes
    spent = input["budget"] - input["money_left"]
    # Step 3: the shoes cost the difference
    return spent - known

output = shoe_price(input)
print(output)
`,
      'Alexis paid $41 for the shoes.',
    ),
  },
  {
    seedId: 'gsm8k-train-0010',
    q: 'Tina makes $18.00 an hour',
    expect: 'kept',
    reply: chat(
      'Here is the Python version of the solution:',
      `input = {
    "hourly_wage": 18.0,
    "regular_hours": 8,
    "hours_per_day": 10,
    "days": 5,
}

def total_pay(input):
    # Step 1: overtime pay is the wage plus half the wage
    overtime_rate = input["hourly_wage"] + input["hourly_wage"] / 2
    # Step 2: overtime hours each day
    overtime_hours = input["hours_per_day"] - input["regular_hours"]
    # Step 3: pay for one day
    daily = input["regular_hours"] * input["hourly_wage"] + overtime_hours * overtime_rate
    # Step 4: pay for all the days
    return daily * input["days"]

output = total_pay(input)
print(output)
`,
      'It prints 990.0, so Tina makes $990.',
    ),
  },
  {
    // An over-cautious refusal ("consumed 847 people").
    seedId: 'gsm8k-train-0011',
    q: 'A deep-sea monster rises from the waters',
    expect: 'unify:llm_refusal',
    reply: {
      content:
        "I'm sorry, but I can't help with content that describes people being killed or eaten. If you'd like, I can help with a similar problem about, for example, passengers boarding ships over the years.",
    },
  },
  {
    seedId: 'gsm8k-train-0012',
    q: 'Tobias is buying a new pair of shoes',
    expect: 'kept',
    reply: chat(
      'Here is the Code CoT for this problem:',
      `input = {
    "shoe_cost": 95,
    "change_left": 15,
    "months": 3,
    "allowance_per_month": 5,
    "lawn_price": 15,
    "lawns_mowed": 4,
    "driveway_price": 7,
}

def driveways_shoveled(input):
    # Step 1: all the money he had before buying the shoes
    total_saved = input["shoe_cost"] + input["change_left"]
    # Step 2: money from his allowance
    allowance = input["months"] * input["allowance_per_month"]
    # Step 3: money from mowing lawns
    mowing = input["lawns_mowed"] * input["lawn_price"]
    # Step 4: the rest came from shoveling driveways
    shoveling = total_saved - allowance - mowing
    return shoveling // input["driveway_price"]

output = driveways_shoveled(input)
print(output)
`,
      'Tobias shoveled 5 driveways.',
    ),
  },
  {
    seedId: 'gsm8k-train-0013',
    q: 'Randy has 60 mango trees on his farm',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "mango_trees": 60,
    "fewer_than_half": 5,
}

def total_trees(input):
    # Step 1: half as many coconut trees as mango trees
    half_mango = input["mango_trees"] // 2
    # Step 2: five less than that
    coconut = half_mango - input["fewer_than_half"]
    # Step 3: all trees on the farm
    total = input["mango_trees"] + coconut
    return total

output = total_trees(input)
print(output)
`,
      'Randy has 85 trees in all.',
    ),
  },
  {
    seedId: 'gsm8k-train-0014',
    q: 'Jasper will serve charcuterie at his dinner party',
    expect: 'kept',
    reply: chat(
      'Here you go:',
      `input = {
    "cheddar_price": 10,
    "cream_cheese_fraction": 0.5,
    "cold_cuts_multiplier": 2,
}

def total_spent(input):
    # Step 1: the cream cheese costs half the cheddar
    cream_cheese = input["cheddar_price"] * input["cream_cheese_fraction"]
    # Step 2: the cold cuts cost twice the cheddar
    cold_cuts = input["cheddar_price"] * input["cold_cuts_multiplier"]
    # Step 3: add up all three ingredients
    total = input["cheddar_price"] + cream_cheese + cold_cuts
    return total

output = total_spent(input)
print(output)
`,
      'The program prints 35.0: Jasper spends $35.',
    ),
  },
  {
    seedId: 'gsm8k-train-0015',
    q: 'Joy can read 8 pages of a book in 20 minutes',
    expect: 'kept',
    reply: chat(
      'Here is the step-by-step program:',
      `from fractions import Fraction

input = {
    "pages_per_block": 8,
    "minutes_per_block": 20,
    "pages_to_read": 120,
    "minutes_per_hour": 60,
}

def hours_needed(input):
    # Step 1: how many 8-page blocks are in 120 pages
    blocks = Fraction(input["pages_to_read"], input["pages_per_block"])
    # Step 2: total minutes of reading
    minutes = blocks * input["minutes_per_block"]
    # Step 3: convert minutes to hours
    hours = minutes / input["minutes_per_hour"]
    return hours

output = hours_needed(input)
print(output)
`,
      'It takes Joy 5 hours.',
    ),
  },
  {
    // Cut off at max_tokens in the middle of the program (finish_reason "length").
    seedId: 'gsm8k-train-0016',
    q: 'James creates a media empire',
    expect: 'unify:llm_truncated',
    reply: {
      finishReason: 'length',
      content: `Let's carefully work through this problem. First we need to figure out the cost of making each DVD, then the selling price, then the profit on each DVD, then the number of DVDs sold per week, and finally the profit over 20 weeks, remembering to subtract the one-time cost of creating the movie. Note that the movie creation cost of $2000 is a fixed cost that is paid only once, while the DVD manufacturing cost is a variable cost that is paid for every DVD. Let me lay out all the quantities clearly before writing the program:

- Movie creation cost: $2000 (one-time)
- Cost to make one DVD: $6
- Selling price: 2.5 times the cost, so 2.5 * 6 = $15
- Profit per DVD: 15 - 6 = $9
- DVDs sold per day: 500
- Days per week: 5
- Weeks: 20

Now the program:

\`\`\`python
input = {
    "movie_cost": 2000,
    "dvd_cost": 6,
    "price_multiplier": 2.5,
    "dvds_per_day": 500,
    "days_per_week": 5,
    "weeks": 20,
}

def profit(input):
    # Step 1: the selling price of one DVD
    price = input["dvd_cost"] * input["price_multiplier"]
    # Step 2: the profit on one DVD
    per_dvd = price - input["dvd_cost"]
    # Step 3: DVDs sold in one week
    per_week = input["dvds_per_day"] * input["days_per_`,
    },
  },
  {
    // Crashes: the code reads a key it never defined (KeyError).
    seedId: 'gsm8k-train-0017',
    q: 'The profit from a business transaction is shared among 2 business partners',
    expect: 'filter:exec_error',
    reply: chat(
      'Here is a program that splits the profit by the ratio:',
      `input = {
    "mike_ratio": 2,
    "johnson_ratio": 5,
    "johnson_share": 2500,
    "shirt_cost": 200,
}

def mike_after_shirt(input):
    # Step 1: the value of one part of the ratio
    part = input["johnson_amount"] / input["johnson_ratio"]
    # Step 2: Mike's share
    mike = part * input["mike_ratio"]
    # Step 3: subtract what he spends on the shirt
    return mike - input["shirt_cost"]

output = mike_after_shirt(input)
print(output)
`,
      'Mike is left with $800.',
    ),
  },
  {
    seedId: 'gsm8k-train-0018',
    q: 'In a truck, there are 26 pink hard hats',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "pink": 26,
    "green": 15,
    "yellow": 24,
    "carl_pink_taken": 4,
    "john_pink_taken": 6,
    "john_green_multiplier": 2,
}

def hats_remaining(input):
    # Step 1: hard hats in the truck at the start
    total = input["pink"] + input["green"] + input["yellow"]
    # Step 2: green hats John takes, twice his pink ones
    john_green = input["john_pink_taken"] * input["john_green_multiplier"]
    # Step 3: all hats taken away
    taken = input["carl_pink_taken"] + input["john_pink_taken"] + john_green
    # Step 4: what remains
    return total - taken

output = hats_remaining(input)
print(output)
`,
      'There are 43 hard hats left in the truck.',
    ),
  },
  {
    seedId: 'gsm8k-train-0019',
    q: 'It takes Roque two hours to walk to work',
    expect: 'kept',
    reply: chat(
      'Sure! Here is the Code CoT:',
      `input = {
    "walk_hours_one_way": 2,
    "bike_hours_one_way": 1,
    "walk_days": 3,
    "bike_days": 2,
    "trips_per_day": 2,
}

def weekly_commute_hours(input):
    # Step 1: hours walking to and from work each week
    walking = input["walk_hours_one_way"] * input["trips_per_day"] * input["walk_days"]
    # Step 2: hours biking to and from work each week
    biking = input["bike_hours_one_way"] * input["trips_per_day"] * input["bike_days"]
    # Step 3: total hours
    total = walking + biking
    return total

output = weekly_commute_hours(input)
print(output)
`,
      'Roque spends 16 hours a week getting to and from work.',
    ),
  },
  {
    seedId: 'gsm8k-train-0020',
    q: 'Tim rides his bike back and forth to work',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "workdays": 5,
    "miles_to_work": 20,
    "weekend_ride_miles": 200,
    "speed_mph": 25,
}

def biking_hours(input):
    # Step 1: miles commuting, there and back each workday
    commute = input["miles_to_work"] * 2 * input["workdays"]
    # Step 2: add the weekend ride
    total_miles = commute + input["weekend_ride_miles"]
    # Step 3: time = distance / speed
    hours = total_miles / input["speed_mph"]
    return hours

output = biking_hours(input)
print(output)
`,
      'Tim bikes 16 hours a week.',
    ),
  },
  {
    seedId: 'gsm8k-train-0021',
    q: 'Bella bought stamps at the post office',
    expect: 'kept',
    reply: chat(
      'Here is the solution as code:',
      `input = {
    "snowflake": 11,
    "truck_more_than_snowflake": 9,
    "rose_fewer_than_truck": 13,
}

def total_stamps(input):
    # Step 1: truck stamps
    truck = input["snowflake"] + input["truck_more_than_snowflake"]
    # Step 2: rose stamps
    rose = truck - input["rose_fewer_than_truck"]
    # Step 3: all stamps
    total = input["snowflake"] + truck + rose
    return total

output = total_stamps(input)
print(output)
`,
      'Bella bought 38 stamps.',
    ),
  },
  {
    seedId: 'gsm8k-train-0022',
    q: 'Each bird eats 12 beetles per day',
    expect: 'kept',
    reply: chat(
      'Here is the program that follows the food chain:',
      `input = {
    "beetles_per_bird": 12,
    "birds_per_snake": 3,
    "snakes_per_jaguar": 5,
    "jaguars": 6,
}

def beetles_eaten(input):
    # Step 1: snakes eaten by all the jaguars
    snakes = input["jaguars"] * input["snakes_per_jaguar"]
    # Step 2: birds eaten by those snakes
    birds = snakes * input["birds_per_snake"]
    # Step 3: beetles eaten by those birds
    beetles = birds * input["beetles_per_bird"]
    return beetles

output = beetles_eaten(input)
print(output)
`,
      '1080 beetles are eaten each day.',
    ),
  },
  {
    seedId: 'gsm8k-train-0023',
    q: 'Samantha’s last name has three fewer letters',
    expect: 'kept',
    reply: chat(
      'Here is a Python program for it:',
      `input = {
    "jamie_full_name": "Jamie Grey",
    "letters_bobbie_removes": 2,
    "samantha_fewer": 3,
}

def samantha_last_name_length(input):
    # Step 1: Jamie's last name is the second word of her full name
    jamie_last = len(input["jamie_full_name"].split()[1])
    # Step 2: Bobbie's name minus two letters is twice Jamie's
    bobbie_last = 2 * jamie_last + input["letters_bobbie_removes"]
    # Step 3: Samantha's last name has three fewer letters than Bobbie's
    return bobbie_last - input["samantha_fewer"]

output = samantha_last_name_length(input)
print(output)
`,
      "Samantha's last name has 7 letters.",
    ),
  },
  {
    seedId: 'gsm8k-train-0024',
    q: "Ann's favorite store was having a summer clearance",
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "total_spent": 75,
    "shorts_count": 5,
    "shorts_price": 7,
    "shoes_count": 2,
    "shoes_price": 10,
    "tops_count": 4,
}

def price_per_top(input):
    # Step 1: money spent on shorts
    shorts = input["shorts_count"] * input["shorts_price"]
    # Step 2: money spent on shoes
    shoes = input["shoes_count"] * input["shoes_price"]
    # Step 3: what is left for the tops
    tops_total = input["total_spent"] - shorts - shoes
    # Step 4: each top costs the same
    return tops_total / input["tops_count"]

output = price_per_top(input)
print(output)
`,
      'Each top cost $5.',
    ),
  },
  {
    seedId: 'gsm8k-train-0025',
    q: 'Mary does her grocery shopping on Saturday',
    expect: 'kept',
    reply: chat(
      'Here is the Code CoT:',
      `input = {
    "credit_limit": 100,
    "paid_tuesday": 15,
    "paid_thursday": 23,
}

def credit_left_to_pay(input):
    # Step 1: she used the whole credit limit
    owed = input["credit_limit"]
    # Step 2: payments made during the week
    paid = input["paid_tuesday"] + input["paid_thursday"]
    # Step 3: what she still has to pay
    remaining = owed - paid
    return remaining

output = credit_left_to_pay(input)
print(output)
`,
      'Mary still needs to pay $62.',
    ),
  },
  {
    seedId: 'gsm8k-train-0026',
    q: 'Ralph is going to practice playing tennis',
    expect: 'kept',
    reply: chat(
      'Here is the program, using fractions to keep the counts exact:',
      `from fractions import Fraction

input = {
    "total_balls": 175,
    "first_batch": 100,
    "first_hit_fraction": "2/5",
    "second_hit_fraction": "1/3",
}

def balls_not_hit(input):
    # Step 1: the second batch is whatever is left after the first 100
    second_batch = input["total_balls"] - input["first_batch"]
    # Step 2: balls hit in each batch
    hit_first = input["first_batch"] * Fraction(input["first_hit_fraction"])
    hit_second = second_batch * Fraction(input["second_hit_fraction"])
    # Step 3: balls he did not hit
    missed = input["total_balls"] - hit_first - hit_second
    return int(missed)

output = balls_not_hit(input)
print(output)
`,
      'Ralph did not hit 110 balls.',
    ),
  },
  {
    seedId: 'gsm8k-train-0027',
    q: 'Jack is stranded on a desert island',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "seawater_liters": 2,
    "salt_percent": 20,
    "ml_per_liter": 1000,
}

def salt_ml(input):
    # Step 1: convert the seawater to milliliters
    water_ml = input["seawater_liters"] * input["ml_per_liter"]
    # Step 2: 20% of it is salt
    salt = water_ml * input["salt_percent"] / 100
    # Step 3: report it as a whole number of milliliters
    return int(salt)

output = salt_ml(input)
print(output)
`,
      'Jack gets 400 ml of salt.',
    ),
  },
  {
    seedId: 'gsm8k-train-0028',
    q: 'Brennan was researching his school project',
    expect: 'kept',
    reply: chat(
      'Here is the step-by-step program:',
      `input = {
    "first_download": 800,
    "first_deleted_percent": 70,
    "second_download": 400,
    "second_irrelevant_fraction": 0.6,
}

def valuable_files(input):
    # Step 1: files kept from the first download
    kept_first = input["first_download"] * (100 - input["first_deleted_percent"]) // 100
    # Step 2: files kept from the second download
    kept_second = input["second_download"] * (1 - input["second_irrelevant_fraction"])
    # Step 3: all the valuable files
    total = kept_first + round(kept_second)
    return total

output = valuable_files(input)
print(output)
`,
      'Brennan is left with 400 valuable files.',
    ),
  },
  {
    seedId: 'gsm8k-train-0029',
    q: 'There are 5 houses on a street',
    expect: 'kept',
    reply: chat(
      'Here you go:',
      `input = {
    "houses": 5,
    "gnomes_per_house_first_four": 3,
    "total_gnomes": 20,
}

def fifth_house_gnomes(input):
    # Step 1: the first four houses
    first_four = input["houses"] - 1
    # Step 2: gnomes in those houses
    gnomes_first_four = first_four * input["gnomes_per_house_first_four"]
    # Step 3: the rest are at the fifth house
    return input["total_gnomes"] - gnomes_first_four

output = fifth_house_gnomes(input)
print(output)
`,
      'The fifth house has 8 gnomes.',
    ),
  },
  {
    // Loops forever: searches in float steps of 0.1 for an exact float equality that never holds.
    seedId: 'gsm8k-train-0030',
    q: 'Mrs. Snyder used to spend 40% of her monthly income',
    expect: 'filter:timeout',
    reply: chat(
      "Let's find the previous income by searching for the income that satisfies both conditions:",
      `input = {
    "old_percent": 40,
    "raise_amount": 600,
    "new_percent": 25,
    "start_guess": 100,
}

def previous_income(input):
    # Step 1: start from a low guess for the old income
    income = input["start_guess"]
    while True:
        # Step 2: rent and utilities at the old percentage
        rent = income * input["old_percent"] / 100
        # Step 3: the same rent must be 25% of the raised income
        if rent == (income + input["raise_amount"]) * input["new_percent"] / 100:
            return income
        # Step 4: try the next candidate
        income += 0.1

output = previous_income(input)
print(output)
`,
      'The loop stops at the old income, $1000.',
    ),
  },
  {
    seedId: 'gsm8k-train-0031',
    q: 'Ann, Bill, Cate, and Dale each buy personal pan pizzas',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "pieces_per_pizza": 4,
    "people_eating_half": 2,
    "half_eaten_percent": 50,
    "people_eating_three_quarters": 2,
    "three_quarters_percent": 75,
}

def pieces_left(input):
    # Step 1: pieces left by each person who eats 50%
    left_half = input["pieces_per_pizza"] * (100 - input["half_eaten_percent"]) // 100
    # Step 2: pieces left by each person who eats 75%
    left_three_quarters = input["pieces_per_pizza"] * (100 - input["three_quarters_percent"]) // 100
    # Step 3: total left over for the four friends
    total = left_half * input["people_eating_half"] + left_three_quarters * input["people_eating_three_quarters"]
    return total

output = pieces_left(input)
print(output)
`,
      '6 pizza pieces are left uneaten.',
    ),
  },
  {
    seedId: 'gsm8k-train-0032',
    q: 'Noah is a painter',
    expect: 'kept',
    reply: chat(
      'Here is the Code CoT:',
      `input = {
    "large_price": 60,
    "small_price": 30,
    "large_sold_last_month": 8,
    "small_sold_last_month": 4,
    "growth_factor": 2,
}

def sales_this_month(input):
    # Step 1: sales from large paintings last month
    large = input["large_price"] * input["large_sold_last_month"]
    # Step 2: sales from small paintings last month
    small = input["small_price"] * input["small_sold_last_month"]
    # Step 3: this month he sold twice as much
    return (large + small) * input["growth_factor"]

output = sales_this_month(input)
print(output)
`,
      "Noah's sales this month are $1200.",
    ),
  },
  {
    seedId: 'gsm8k-train-0033',
    q: 'A car is driving through a tunnel with many turns',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "total_distance": 23,
    "after_first_turn": 5,
    "after_second_turn": 8,
    "after_fourth_turn": 0,
}

def distance_after_third_turn(input):
    # Step 1: distance known from the other legs
    known = input["after_first_turn"] + input["after_second_turn"] + input["after_fourth_turn"]
    # Step 2: the leg after the 3rd turn covers the rest
    third = input["total_distance"] - known
    # Step 3: return that leg
    return third

output = distance_after_third_turn(input)
print(output)
`,
      'The car traveled 10 meters after the 3rd turn.',
    ),
  },
  {
    seedId: 'gsm8k-train-0034',
    q: 'To make pizza, together with other ingredients, Kimber needs',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "water_cups": 10,
    "flour_cups": 16,
    "salt_ratio_to_flour": 0.5,
}

def total_amount(input):
    # Step 1: teaspoons of salt, half the cups of flour
    salt = input["flour_cups"] * input["salt_ratio_to_flour"]
    # Step 2: combine water, flour and salt
    total = input["water_cups"] + input["flour_cups"] + salt
    # Step 3: it is a whole number
    return int(total)

output = total_amount(input)
print(output)
`,
      'She needs 34 in total.',
    ),
  },
  {
    seedId: 'gsm8k-train-0035',
    q: 'Mr. Sam shared a certain amount of money',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "ken_share": 1750,
    "tony_multiplier": 2,
}

def total_shared(input):
    # Step 1: Tony got twice as much as Ken
    tony = input["ken_share"] * input["tony_multiplier"]
    # Step 2: the total is what both sons got
    total = input["ken_share"] + tony
    # Step 3: return the total
    return total

output = total_shared(input)
print(output)
`,
      'Mr. Sam shared $5250.',
    ),
  },
  {
    seedId: 'gsm8k-train-0036',
    q: 'Mr. Sanchez found out that 40% of his Grade 5',
    expect: 'kept',
    reply: chat(
      'Here is the Code CoT:',
      `input = {
    "students": 60,
    "below_b_percent": 40,
}

def b_and_above(input):
    # Step 1: percentage of students with B and above
    percent_ok = 100 - input["below_b_percent"]
    # Step 2: apply it to the class
    count = input["students"] * percent_ok // 100
    # Step 3: return the number of students
    return count

output = b_and_above(input)
print(output)
`,
      '36 students got a B or above.',
    ),
  },
  {
    seedId: 'gsm8k-train-0037',
    q: 'Lisa, Jack, and Tommy earned $60',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "total_earned": 60,
    "lisa_fraction": 0.5,
    "tommy_fraction_of_lisa": 0.5,
}

def lisa_minus_tommy(input):
    # Step 1: Lisa earned half of the total
    lisa = input["total_earned"] * input["lisa_fraction"]
    # Step 2: Tommy earned half of what Lisa earned
    tommy = lisa * input["tommy_fraction_of_lisa"]
    # Step 3: the difference
    return lisa - tommy

output = lisa_minus_tommy(input)
print(output)
`,
      'Lisa earned $15 more than Tommy.',
    ),
  },
  {
    seedId: 'gsm8k-train-0038',
    q: 'Five friends eat at a fast-food chain',
    expect: 'kept',
    reply: chat(
      'Here is the Code CoT:',
      `input = {
    "friends": 5,
    "hamburgers": 5,
    "hamburger_price": 3,
    "fries_sets": 4,
    "fries_price": 1.20,
    "sodas": 5,
    "soda_price": 0.5,
    "spaghetti_price": 2.7,
}

def share_per_friend(input):
    # Step 1: cost of each part of the order
    burgers = input["hamburgers"] * input["hamburger_price"]
    fries = input["fries_sets"] * input["fries_price"]
    sodas = input["sodas"] * input["soda_price"]
    # Step 2: the whole bill
    bill = burgers + fries + sodas + input["spaghetti_price"]
    # Step 3: split equally
    return round(bill / input["friends"], 2)

output = share_per_friend(input)
print(output)
`,
      'Each friend pays $5.',
    ),
  },
  {
    seedId: 'gsm8k-train-0039',
    q: 'Artemis is making tea for a party',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "mom_cup_ounces": 8,
    "tea_per_mom_cup": 1,
    "guests": 12,
    "guest_cup_ounces": 6,
}

def tea_needed(input):
    # Step 1: ounces of tea per ounce of drink
    ratio = input["tea_per_mom_cup"] / input["mom_cup_ounces"]
    # Step 2: ounces of drink for the party
    drink = input["guests"] * input["guest_cup_ounces"]
    # Step 3: ounces of tea needed
    return drink * ratio

output = tea_needed(input)
print(output)
`,
      'She needs 9 ounces of tea.',
    ),
  },
  {
    seedId: 'gsm8k-train-0040',
    q: 'Anna goes trick-or-treating in a subdivision',
    expect: 'kept',
    reply: chat(
      'Here is the program:',
      `input = {
    "anna_per_house": 14,
    "anna_houses": 60,
    "billy_per_house": 11,
    "billy_houses": 75,
}

def anna_more_than_billy(input):
    # Step 1: Anna's candy
    anna = input["anna_per_house"] * input["anna_houses"]
    # Step 2: Billy's candy
    billy = input["billy_per_house"] * input["billy_houses"]
    # Step 3: the difference
    return anna - billy

output = anna_more_than_billy(input)
print(output)
`,
      'Anna gets 15 more pieces of candy than Billy.',
    ),
  },
];
